// Thresholds (sFlow-RT §2.6): GET /threshold/json, GET|PUT|DELETE /threshold/{name}/json.
// Body `{"metric":"load_one","value":2,"filter":{"os_name":["linux"]},"byFlow":false,"timeout":10}`;
// GET echoes it with the defaults filled in. Semantics in docs/thresholds.md.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkName } from '../engine/groups.js';
import { acceptTextBodies, jsonBody } from './body.js';
import type { ApiContext } from './context.js';
import { HttpError } from './errors.js';
import { nameParams } from './groups.js';
import { sendJson } from './json.js';

const thresholdObject = {
  type: 'object',
  properties: {
    metric: { type: 'string', description: 'Metric or flow name: `load_one`, `2.1.load_one`, `max:load_one`, `sum:<flow>`, `<flow>`' },
    value: { type: 'number', description: 'Fires when the value goes above this' },
    byFlow: { type: 'boolean', description: 'On a flow name: one event per flow key above the threshold' },
    timeout: { type: 'number', description: 'Seconds the value must stay at or below the threshold before it re-arms (default 0)' },
    filter: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Data-source filter as the /metric query: {"<metric>": ["<glob>", ...], "ds": ["3.*"]}' },
  },
  required: ['metric', 'value'],
  additionalProperties: true,
};

export default async function thresholdRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const thresholds = opts.ctx.registries.thresholds;
  acceptTextBodies(app, 1024 * 1024);

  app.get(
    '/threshold/json',
    { schema: { summary: 'Every threshold, by name', tags: ['thresholds'], response: { 200: { type: 'object', additionalProperties: thresholdObject } } } },
    async (_req, reply) => sendJson(reply, thresholds.all()),
  );

  app.get(
    '/threshold/:name/json',
    { schema: { summary: 'One threshold (defaults filled in)', tags: ['thresholds'], params: nameParams, response: { 200: thresholdObject } } },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      checkName('threshold', name);
      const spec = thresholds.get(name);
      if (spec === undefined) throw new HttpError(404, `no threshold ${JSON.stringify(name)}`);
      return sendJson(reply, spec);
    },
  );

  const put = async (req: FastifyRequest, reply: FastifyReply) => {
    const { name } = req.params as { name: string };
    checkName('threshold', name);
    thresholds.set(name, jsonBody(req.body));
    return reply.code(204).send();
  };
  const putSchema = {
    summary: 'Create or replace (and re-arm) a threshold',
    description: 'Body `{"metric": "<name>", "value": <number>, "byFlow": false, "timeout": <seconds>, "filter": {"<metric>": ["<glob>"]}}`. 204; 400 naming the fault.',
    tags: ['thresholds'],
    params: nameParams,
  };
  app.put('/threshold/:name/json', { schema: putSchema }, put);
  app.post('/threshold/:name/json', { schema: { ...putSchema, summary: 'Same as PUT' } }, put);

  app.delete('/threshold/:name/json', { schema: { summary: 'Remove a threshold (204 even if unknown)', tags: ['thresholds'], params: nameParams } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    checkName('threshold', name);
    thresholds.delete(name);
    return reply.code(204).send();
  });
}
