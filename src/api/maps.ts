// Maps (sFlow-RT §2.5): GET /map/json, GET|PUT|DELETE /map/{name}/json. A map is
// `{"<label>": ["<value>", ...]}` used by `map:<key>:<name>`; same answers as /group.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkName } from '../engine/groups.js';
import { acceptTextBodies, jsonBody } from './body.js';
import type { ApiContext } from './context.js';
import { HttpError } from './errors.js';
import { LABEL_BODY_LIMIT, nameParams } from './groups.js';
import { sendJson } from './json.js';

const labelLists = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string' } },
  description: '{"<label>": ["<value>", ...]}',
};

export default async function mapRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const ctx = opts.ctx;
  const maps = ctx.registries.maps;
  const clock = ctx.engine.clock;
  acceptTextBodies(app, LABEL_BODY_LIMIT);

  app.get(
    '/map/json',
    { schema: { summary: 'Every map, by name', tags: ['maps'], response: { 200: { type: 'object', additionalProperties: labelLists } } } },
    async (_req, reply) => sendJson(reply, maps.all()),
  );

  app.get(
    '/map/:name/json',
    { schema: { summary: 'One map: {"<label>": ["<value>", ...]}', tags: ['maps'], params: nameParams, response: { 200: labelLists } } },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      checkName('map', name);
      const def = maps.get(name);
      if (def === undefined) throw new HttpError(404, `no map ${JSON.stringify(name)}`);
      return sendJson(reply, def);
    },
  );

  const put = async (req: FastifyRequest, reply: FastifyReply) => {
    const { name } = req.params as { name: string };
    checkName('map', name);
    maps.set(name, jsonBody(req.body), clock.now());
    return reply.code(204).send();
  };
  const putSchema = {
    summary: 'Create or replace a map',
    description: 'Body `{"<label>": ["<value>", ...]}` (numbers are taken as their decimal text). `map:<key>:<name>` gives the label whose list holds the key\'s value; a value under two labels belongs to the first. 204; 400 naming the faulty entry.',
    tags: ['maps'],
    params: nameParams,
  };
  app.put('/map/:name/json', { schema: putSchema }, put);
  app.post('/map/:name/json', { schema: { ...putSchema, summary: 'Same as PUT' } }, put);

  app.delete('/map/:name/json', { schema: { summary: 'Remove a map (204 even if unknown)', tags: ['maps'], params: nameParams } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    checkName('map', name);
    maps.delete(name);
    return reply.code(204).send();
  });
}
