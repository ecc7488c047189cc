// OpenAPI description at /api-docs and the Swagger UI explorer at /api/ (sFlow-RT's "REST API
// Explorer"). Must be registered before the routes it describes.

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'sflowscope REST API',
        description: 'Real-time sFlow analytics; compatible with the InMon sFlow-RT REST API (see docs/).',
        version,
      },
      tags: [
        { name: 'server', description: 'Version, status and engine statistics' },
        { name: 'agents', description: 'sFlow agents and their data sources' },
        { name: 'metrics', description: 'Counter metrics: values, statistics, tables, dumps' },
      ],
      // Declared whether or not the server asks for tokens (--auth-token-file, docs/security.md):
      // the explorer's Authorize button then sends `Authorization: Bearer <token>` with every try.
      // The empty requirement keeps each operation callable without one.
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token of --auth-token-file; needed for changes with --auth-scope writes, for every request but /status with all.' } } },
      security: [{ bearerAuth: [] }, {}],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api', uiConfig: { docExpansion: 'list', deepLinking: false } });
}

/** GET /api-docs: the OpenAPI document (registered after every route, so it lists them all). */
export function registerApiDocsRoute(app: FastifyInstance): void {
  app.get('/api-docs', { schema: { hide: true } }, async (_req, reply) => reply.type('application/json').send(JSON.stringify(app.swagger())));
}
