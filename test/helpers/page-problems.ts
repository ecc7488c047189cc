// What a page did wrong, as a list a test can assert empty: console errors, uncaught exceptions,
// failed requests and HTTP errors.

import type { Page } from 'playwright-core';

export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Polls cut short when the page closes are not failures of the page.
    if (!page.isClosed()) problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}
