// Security headers on every answer (UI pages, JSON, text, errors) through @fastify/helmet, with a
// Content-Security-Policy as strict as the UI allows. test/security/csp-ui.test.ts loads every UI
// page and the Swagger UI in Chromium under these headers and fails on any violation.
//
// Plain HTTP is the common case (http://<node-ip>:8008), so what only makes sense over TLS is
// sent only with --tls-cert: Strict-Transport-Security, upgrade-insecure-requests (on plain HTTP
// it would send the page's own requests to an https port that does not exist) and
// Cross-Origin-Opener-Policy (browsers ignore it on non-secure origins, with a console error).

import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * sha256 of `.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}`, the <style>
 * in the Swagger UI top bar (@fastify/swagger-ui 6). Another version may change it: the Chromium
 * test of /api/ then reports the violation with the new hash.
 */
export const SWAGGER_UI_LOGO_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/** The CSP directives (docs/security.md explains each). */
export function cspDirectives(tls: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    // The UI is Vite-built modules plus one classic script (/theme-init.js); no inline script,
    // no eval, no inline event handlers.
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    // Stylesheets only from our origin (Vite extracts the UI's CSS to files), plus the one
    // <style> element the Swagger UI renders (its logo's SVG); a hash admits that text only.
    'style-src': ["'self'", SWAGGER_UI_LOGO_STYLE],
    // Style attributes stay allowed (<style> elements do not): ECharts writes its tooltips as
    // HTML with style attributes and Lit templates bind colour swatches through style="". A style
    // attribute cannot run script, and the markup that carries one is escaped (Lit, our tooltip
    // formatter).
    'style-src-attr': ["'unsafe-inline'"],
    // data: for the favicon placeholder and the Swagger UI logo.
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'self'"],
    ...(tls ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/** HSTS max-age: 180 days, this host only (no includeSubDomains, no preload: sflowscope does not own the domain). */
export const HSTS_MAX_AGE_S = 180 * 24 * 3600;

export function helmetOptions(tls: boolean): FastifyHelmetOptions {
  return {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(tls) },
    crossOriginOpenerPolicy: tls ? { policy: 'same-origin' } : false,
    crossOriginEmbedderPolicy: false,
    // Same-origin only for no-cors loads (img, script); CORS fetches of --cors-origin pages are not concerned.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    strictTransportSecurity: tls ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'sameorigin' },
  };
}

export async function registerSecurityHeaders(app: FastifyInstance, tls: boolean): Promise<void> {
  await app.register(helmet, helmetOptions(tls));
}
