// The navigation bar every page shows: brand, links to the pages, theme toggle.

import { LitElement, html } from 'lit';
import { currentTheme, setTheme } from './theme.js';

export const PAGES = [
  { id: 'status', href: '/#status', label: 'Status' },
  { id: 'apps', href: '/#apps', label: 'Apps' },
  { id: 'sunburst', href: '/app/sunburst/html/index.html', label: 'Sunburst' },
  { id: 'browse-flows', href: '/app/browse-flows/html/index.html', label: 'Flow Browser' },
  { id: 'browse-drops', href: '/app/browse-drops/html/index.html', label: 'Discard Browser' },
  { id: 'browse-metrics', href: '/app/browse-metrics/html/index.html', label: 'Metric Browser' },
  { id: 'api', href: '/api/', label: 'API' },
] as const;

export class SsNav extends LitElement {
  static override properties = { active: { type: String } };
  active = '';

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  private toggle(): void {
    setTheme(currentTheme() === 'dark' ? 'light' : 'dark');
    this.requestUpdate();
  }

  override render() {
    const dark = currentTheme() === 'dark';
    return html`<nav class="navbar" aria-label="Main">
      <a class="brand" href="/">sflowscope</a>
      <ul>
        ${PAGES.map(
          (p) => html`<li><a href=${p.href} class=${p.id === this.active ? 'active' : ''} aria-current=${p.id === this.active ? 'page' : 'false'}>${p.label}</a></li>`,
        )}
      </ul>
      <button class="theme" type="button" @click=${this.toggle} aria-label=${dark ? 'Switch to light theme' : 'Switch to dark theme'} title="Toggle theme">
        ${dark ? '☀' : '☾'}
      </button>
    </nav>`;
  }
}
customElements.define('ss-nav', SsNav);
