// Vite build of the web UI: one HTML entry per page, laid out like sFlow-RT's URLs
// (`/` Status page, `/app/<name>/html/index.html` apps), built into dist/web and served by
// src/api/static.ts from the API's port. `npm run dev:web` proxies the API to :8008.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export const WEB_PAGES = {
  status: 'index.html',
  sunburst: 'app/sunburst/html/index.html',
  'browse-flows': 'app/browse-flows/html/index.html',
  'browse-drops': 'app/browse-drops/html/index.html',
  'browse-metrics': 'app/browse-metrics/html/index.html',
};

const api = process.env.SFLOWSCOPE_API ?? 'http://127.0.0.1:8008';
const proxied = ['/analyzer', '/agents', '/metrics', '/metric', '/table', '/dump', '/apps', '/app/sunburst/scripts', '/app/browse-flows/scripts', '/app/browse-drops/scripts', '/app/browse-flows/status', '/flowkeys', '/activeflows', '/version', '/status'];

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: resolve(root, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    rollupOptions: { input: Object.fromEntries(Object.entries(WEB_PAGES).map(([k, v]) => [k, resolve(root, v)])) },
  },
  server: { proxy: Object.fromEntries(proxied.map((p) => [p, api])) },
});
