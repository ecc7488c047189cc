// GET /state/json (sflowscope): where the state file is, how its last load went (a corrupt file
// moved aside, entries rejected), and how writes are going. For the Status page and operators.

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { sendJson } from './json.js';

export default async function stateRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const state = opts.ctx.registries.state;
  app.get(
    '/state/json',
    {
      schema: {
        summary: 'State file: path, last load (status, error, file moved aside, rejected entries), writes',
        tags: ['server'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (_req, reply) =>
      sendJson(reply, {
        enabled: state.config.enabled,
        file: state.path,
        load: state.report,
        sections: state.sectionNames,
        pending: state.pending,
        writes: state.stats.writes,
        writeErrors: state.stats.writeErrors,
        lastWriteAt: state.stats.lastWriteAt,
        lastWriteError: state.stats.lastWriteError,
      }),
  );
}
