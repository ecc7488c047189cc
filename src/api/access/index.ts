// Access control of the HTTP API (docs/security.md). Registered by src/app.ts before any route.

import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../../config.js';
import type { ApiContext } from '../context.js';

/** Hooks and plugins that decide who may do what: read-only mode, tokens, CORS, headers, write rate limits. */
export async function registerAccess(_app: FastifyInstance, _config: ServerConfig, _ctx: ApiContext): Promise<void> {
  // Filled in by the access-control work of issue #10.
}
