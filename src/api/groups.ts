// Groups (sFlow-RT §2.5): GET /group/json, GET|PUT|DELETE /group/{name}/json, and the legacy
// GET /groups/json (name → ms since last update). A group is `{"<label>": ["<cidr>", ...]}`;
// PUT validates and compiles it (400 naming the faulty entry), 204 on success; DELETE is 204
// whether or not the group existed (as sFlow-RT's DELETE /flow); GET of an unknown group is 404.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkName } from '../engine/groups.js';
import { acceptTextBodies, jsonBody } from './body.js';
import type { ApiContext } from './context.js';
import { HttpError } from './errors.js';
import { sendJson } from './json.js';

/** Group and map bodies may be large (lists of cloud prefixes): as large as --http-body-limit allows. */
export const LABEL_BODY_LIMIT = Number.MAX_SAFE_INTEGER;

export const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['name'],
} as const;

const labelLists = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string' } },
  description: '{"<label>": ["<value>", ...]}',
};

export default async function groupRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const ctx = opts.ctx;
  const groups = ctx.registries.groups;
  const clock = ctx.engine.clock;
  acceptTextBodies(app, LABEL_BODY_LIMIT);

  app.get(
    '/group/json',
    { schema: { summary: 'Every group, by name', tags: ['groups'], response: { 200: { type: 'object', additionalProperties: labelLists } } } },
    async (_req, reply) => sendJson(reply, groups.all()),
  );

  app.get(
    '/groups/json',
    { schema: { summary: 'Group names with the ms since each was last set (legacy)', tags: ['groups'], response: { 200: { type: 'object', additionalProperties: { type: 'number' } } } } },
    async (_req, reply) => {
      const now = clock.now();
      const out: Record<string, number> = {};
      for (const [n, t] of Object.entries(groups.updateTimes())) out[n] = Math.max(0, Math.round(now - t));
      return sendJson(reply, out);
    },
  );

  app.get(
    '/group/:name/json',
    { schema: { summary: 'One group: {"<label>": ["<cidr>", ...]}', tags: ['groups'], params: nameParams, response: { 200: labelLists } } },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      checkName('group', name);
      const def = groups.get(name);
      if (def === undefined) throw new HttpError(404, `no group ${JSON.stringify(name)}`);
      return sendJson(reply, def);
    },
  );

  const put = async (req: FastifyRequest, reply: FastifyReply) => {
    const { name } = req.params as { name: string };
    checkName('group', name);
    groups.set(name, jsonBody(req.body), clock.now());
    return reply.code(204).send();
  };
  const putSchema = {
    summary: 'Create or replace a group',
    description:
      'Body `{"<label>": ["<cidr or address>", ...]}`, IPv4 and IPv6. `group:<key>:<name>` labels an address with the label of its longest matching prefix; the same prefix under two labels belongs to the first. 204; 400 naming the faulty entry.',
    tags: ['groups'],
    params: nameParams,
  };
  app.put('/group/:name/json', { schema: putSchema }, put);
  app.post('/group/:name/json', { schema: { ...putSchema, summary: 'Same as PUT' } }, put);

  app.delete('/group/:name/json', { schema: { summary: 'Remove a group (204 even if unknown)', tags: ['groups'], params: nameParams } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    checkName('group', name);
    groups.delete(name);
    return reply.code(204).send();
  });
}
