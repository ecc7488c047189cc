// Flow endpoints (sFlow-RT §2.4): /flowkeys/json, /flow/json, /flow/{name}/json (GET, PUT, POST,
// DELETE), /activeflows/{agent}/{name}/json, /flowvalue/{agent}/{ds.name}/json,
// /flowlocations/{agent}/{name}/json, /flows/json (long poll).
//
// Status codes follow the recorded sFlow-RT answers (success 200/204; unknown flow 404 on
// /flow/{name}; /activeflows of an unknown flow 200 []; DELETE of an unknown flow 204; a bad
// flow name 400). Error answers carry a JSON body whose message points at the fault (sFlow-RT's
// are empty); unknown keys and values are refused (400) where sFlow-RT accepts a flow that then
// never matches — see docs/flows.md.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext, ApiPlugin } from './index.js';
import type { FlowEngine } from '../engine/flows/engine.js';
import { FlowSpecError } from '../engine/flows/syntax.js';
import { checkFlowName } from '../engine/flows/spec.js';
import { QueryError } from '../engine/query.js';
import { acceptTextBodies, jsonBody } from './body.js';
import { HttpError, sendError } from './errors.js';
import { sendJson } from './json.js';

const nameParam = { type: 'string', minLength: 1, maxLength: 256, description: 'Flow name (letters, digits, `_`, `-`)' };
const agentParam = { type: 'string', minLength: 1, maxLength: 8192, description: 'Agent addresses separated by `,` or `;`, or `ALL`' };

const specSchema = {
  type: 'object',
  description: 'A flow spec (sFlow-RT attributes; see docs/flows.md)',
  properties: {
    keys: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Comma-separated flow keys or key functions (or an array)', examples: ['ipsource,ipdestination'] },
    value: { type: 'string', description: 'bytes, frames, requests, duration, a numeric key, or rate:/avg:/min:/max:/count:<key>' },
    values: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Extra values' },
    filter: { type: 'string', description: 'Filter expression (=, !=, ~, !~, &, |, parentheses, null, quotes)' },
    n: { type: 'number', description: 'Top keys reported per data source (default 5)' },
    t: { type: 'number', description: 'Smoothing time constant, seconds (default 2)' },
    fs: { type: 'string', description: 'Key separator (default ",")' },
    dropped: { type: 'boolean', description: 'Count discarded packets instead of packet samples' },
    log: { type: 'boolean', description: 'Log completed flows to /flows/json' },
    flowStart: { type: 'boolean', description: 'With log: log the start of each flow instead of its end' },
    activeTimeout: { type: 'number', description: 'With log: seconds after which an active flow is logged (default 60)' },
    aggMode: { type: 'string', description: 'Default merge of /activeflows: max, sum, edge, core, agent' },
  },
  additionalProperties: true,
};

const activeFlowSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    value: { type: 'number' },
    agent: { type: 'string' },
    dataSource: { type: 'string' },
    flowN: { type: 'number', description: 'Data sources merged' },
    values: { type: 'array', items: { type: 'number' } },
  },
};

const flowRecordSchema = {
  type: 'object',
  properties: {
    flowID: { type: 'number' },
    name: { type: 'string' },
    agent: { type: 'string' },
    dataSource: { type: 'string' },
    flowKeys: { type: 'string' },
    value: { type: 'number', description: 'Total over the record (scaled by the sampling rate)' },
    start: { type: 'number', description: 'Epoch ms' },
    end: { type: 'number', description: 'Epoch ms' },
    values: { type: 'array', items: { type: 'number' } },
  },
};

function intParam(q: Record<string, unknown>, name: string, dflt: number, min: number, max: number): number {
  const raw = q[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const s = String(v).trim();
  if (!/^-?\d+$/.test(s)) throw new HttpError(400, `${name}: expected an integer, not ${JSON.stringify(String(v).slice(0, 40))}`);
  const n = Number(s);
  if (n < min || n > max) throw new HttpError(400, `${name}: ${n} is out of range (${min} to ${max})`);
  return n;
}

function numParam(q: Record<string, unknown>, name: string, dflt: number): number {
  const raw = q[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name}: expected a number, not ${JSON.stringify(String(v).slice(0, 40))}`);
  return n;
}

function strParam(q: Record<string, unknown>, name: string): string | undefined {
  const raw = q[name];
  if (raw === undefined) return undefined;
  const v = Array.isArray(raw) ? raw.map(String) : [String(raw)];
  // several filter parameters are joined with & (the apps do the same)
  return name === 'filter' ? v.join('&') : v[v.length - 1];
}

/** Turn engine validation errors into 400 answers. */
function bad(e: unknown): never {
  if (e instanceof FlowSpecError || e instanceof QueryError) throw new HttpError(400, e.message);
  throw e;
}

/** The flow routes, bound to a flow engine. */
export function flowRoutes(flows: FlowEngine): ApiPlugin {
  return async function flowPlugin(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
    const ctx = opts.ctx;
    const now = () => ctx.engine.clock.now();

    // sFlow-RT takes a spec in any content type (text/plain too): parse the body as JSON ourselves.
    acceptTextBodies(app, 256 * 1024);
    const parseBody = (req: FastifyRequest): unknown => jsonBody(req.body, 'a JSON flow spec such as {"keys":"ipsource,ipdestination","value":"bytes"}');

    app.get(
      '/flowkeys/json',
      { schema: { summary: 'Flow attribute names seen recently, with the ms since each was seen', tags: ['flows'], response: { 200: { type: 'object', additionalProperties: { type: 'number' } } } } },
      async (_req, reply) => sendJson(reply, flows.flowKeys(now())),
    );

    app.get(
      '/flow/json',
      { schema: { summary: 'Every flow definition, by name', tags: ['flows'], response: { 200: { type: 'object', additionalProperties: specSchema } } } },
      async (_req, reply) => sendJson(reply, flows.listFlows()),
    );

    app.get(
      '/flow/:name/json',
      {
        schema: {
          summary: 'One flow definition (defaults filled in)',
          tags: ['flows'],
          params: { type: 'object', properties: { name: nameParam }, required: ['name'] },
          response: { 200: specSchema },
        },
      },
      async (req, reply) => {
        const { name } = req.params as { name: string };
        const spec = flows.listFlows()[name];
        if (spec === undefined) return sendError(reply, 404, `no flow ${JSON.stringify(name.slice(0, 140))}`);
        return sendJson(reply, spec);
      },
    );

    const put = async (req: FastifyRequest, reply: FastifyReply) => {
      const { name } = req.params as { name: string };
      try {
        checkFlowName(name);
      } catch (e) {
        bad(e);
      }
      const body = parseBody(req);
      try {
        flows.setFlow(name, body);
      } catch (e) {
        bad(e);
      }
      return reply.code(204).send();
    };
    const putSchema = {
      summary: 'Define or replace a flow (204; 400 with a message naming the fault)',
      tags: ['flows'],
      params: { type: 'object', properties: { name: nameParam }, required: ['name'] },
      body: specSchema,
    };
    // The schema documents the body; the engine validates it (with precise messages): the body
    // arrives as text (any content type), so the schema's own verdict is attached and ignored.
    app.put('/flow/:name/json', { schema: putSchema, attachValidation: true }, put);
    app.post('/flow/:name/json', { schema: { ...putSchema, summary: 'Same as PUT (sFlow-RT accepts POST)' }, attachValidation: true }, put);

    app.delete(
      '/flow/:name/json',
      { schema: { summary: 'Delete a flow (204, also when there was none)', tags: ['flows'], params: { type: 'object', properties: { name: nameParam }, required: ['name'] } } },
      async (req, reply) => {
        const { name } = req.params as { name: string };
        try {
          checkFlowName(name);
        } catch (e) {
          bad(e);
        }
        flows.deleteFlow(name);
        return reply.code(204).send();
      },
    );

    app.get(
      '/activeflows/:agent/:name/json',
      {
        schema: {
          summary: 'Current top flows, merged across data sources',
          description:
            'maxFlows (default 100), minValue (default 0), aggMode max (default) | sum | edge | core | agent, filter (an expression over the flow keys). Without a topology, edge is max and core is empty. Unknown flow: [].',
          tags: ['flows'],
          params: { type: 'object', properties: { agent: agentParam, name: nameParam }, required: ['agent', 'name'] },
          querystring: { type: 'object', additionalProperties: true },
          response: { 200: { type: 'array', items: activeFlowSchema } },
        },
      },
      async (req, reply) => {
        const p = req.params as { agent: string; name: string };
        const q = req.query as Record<string, unknown>;
        const maxFlows = intParam(q, 'maxFlows', 100, 0, 1_000_000);
        const minValue = numParam(q, 'minValue', 0);
        const aggMode = strParam(q, 'aggMode');
        const filter = strParam(q, 'filter');
        let out;
        try {
          out = flows.activeFlows(p.agent, p.name, { maxFlows, minValue, ...(aggMode !== undefined ? { aggMode } : {}), ...(filter !== undefined ? { filter } : {}) }, now());
        } catch (e) {
          bad(e);
        }
        return sendJson(reply, out);
      },
    );

    app.get(
      '/flowvalue/:agent/:dsname/json',
      {
        schema: {
          summary: 'The value of one flow key on one data source (`<ds>.<flow>`, e.g. 22.tcp)',
          tags: ['flows'],
          params: { type: 'object', properties: { agent: { type: 'string' }, dsname: { type: 'string' } }, required: ['agent', 'dsname'] },
          querystring: { type: 'object', properties: { key: { type: 'string' } }, additionalProperties: true },
          response: { 200: { type: 'number' } },
        },
      },
      async (req, reply) => {
        const p = req.params as { agent: string; dsname: string };
        const dot = p.dsname.lastIndexOf('.');
        if (dot <= 0) throw new HttpError(400, `expected <dataSource>.<flow>, e.g. 22.tcp, not ${JSON.stringify(p.dsname.slice(0, 100))}`);
        const key = strParam(req.query as Record<string, unknown>, 'key') ?? '';
        const v = flows.flowValue(p.agent, p.dsname.slice(0, dot), p.dsname.slice(dot + 1), key, now());
        if (v === undefined) return sendError(reply, 404, `no flow ${JSON.stringify(p.dsname.slice(dot + 1))} on ${p.agent} data source ${p.dsname.slice(0, dot)}`);
        return sendJson(reply, v);
      },
    );

    app.get(
      '/flowlocations/:agent/:name/json',
      {
        schema: {
          summary: 'Data sources on which a flow key is seen, largest value first',
          tags: ['flows'],
          params: { type: 'object', properties: { agent: agentParam, name: nameParam }, required: ['agent', 'name'] },
          querystring: { type: 'object', properties: { key: { type: 'string' } }, additionalProperties: true },
        },
      },
      async (req, reply) => {
        const p = req.params as { agent: string; name: string };
        const key = strParam(req.query as Record<string, unknown>, 'key');
        if (key === undefined) throw new HttpError(400, 'key: required');
        let out;
        try {
          out = flows.flowLocations(p.agent, p.name, key, now());
        } catch (e) {
          bad(e);
        }
        return sendJson(reply, out);
      },
    );

    app.get(
      '/flows/json',
      {
        schema: {
          summary: 'Completed flow records of log:true flows, newest first (long poll)',
          description: 'name: one flow; flowID: only newer records; maxFlows (default 1000); timeout: seconds to wait for a newer record (then []).',
          tags: ['flows'],
          querystring: { type: 'object', additionalProperties: true },
          response: { 200: { type: 'array', items: flowRecordSchema } },
        },
      },
      async (req, reply) => {
        const q = req.query as Record<string, unknown>;
        const maxFlows = intParam(q, 'maxFlows', flows.config.flowLogMax, 0, 1_000_000);
        const after = q.flowID === undefined || q.flowID === '' ? undefined : intParam(q, 'flowID', -1, -1, Number.MAX_SAFE_INTEGER);
        const timeout = numParam(q, 'timeout', 0);
        if (timeout < 0) throw new HttpError(400, 'timeout: must be 0 or more seconds');
        const name = strParam(q, 'name');
        const query = { maxFlows, ...(after !== undefined ? { after } : {}), ...(name !== undefined && name !== '' ? { name } : {}) };
        const records = await flows.pollFlows(query, timeout * 1000, now());
        return sendJson(reply, records);
      },
    );
  };
}
