// Metric endpoints (sFlow-RT §2.3): /metrics/json, /metric/{agent}/json,
// /metric/{agent}/{metric}/json, /table/{agent}/{metric}/json, /dump/{agent}/{metric}/json.
// Status codes follow the recorded sFlow-RT answers: an unknown agent or metric is not an error
// (200 with {} / [] / [{"metricName"}]) unless `strictNotFound` is set; a malformed metric,
// column or filter is 400.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { QueryError, parseAgents, parseColumn, parseFilter, parseMetricSpec, splitList, type AgentSelector } from '../engine/query.js';
import type { ApiContext } from './context.js';
import { HttpError } from './errors.js';
import { sendJson } from './json.js';

const MAX_LIST = 1000;

const agentParam = {
  type: 'string',
  minLength: 1,
  maxLength: 8192,
  description: 'Agent addresses (or host names) separated by `,` or `;`, or `ALL`',
};
const metricParam = {
  type: 'string',
  minLength: 1,
  maxLength: 16384,
  description: 'Metric names separated by `,` or `;`',
};
const filterQuery = {
  type: 'object',
  description: 'Filters: `metric=value` (glob `*`), the same key repeated = OR, different keys = AND; `ds=<data source glob>`',
  additionalProperties: true,
};

const metricObject = {
  type: 'object',
  properties: {
    agent: { type: 'string' },
    dataSource: { type: 'string' },
    metricName: { type: 'string' },
    metricValue: { type: ['number', 'string'] },
    lastUpdate: { type: 'number', description: 'ms since the value was updated' },
  },
  additionalProperties: true,
};
const statisticObject = {
  type: 'object',
  properties: {
    metricName: { type: 'string' },
    metricValue: { type: ['number', 'string'] },
    agent: { type: 'string' },
    dataSource: { type: 'string' },
    metricN: { type: 'number' },
    lastUpdate: { type: 'number' },
    lastUpdateMin: { type: 'number' },
    lastUpdateMax: { type: 'number' },
    quartiles: { type: 'object', additionalProperties: { type: 'number' } },
  },
  required: ['metricName'],
  additionalProperties: true,
};

function list(segment: string, what: string): string[] {
  const items = splitList(segment);
  if (items.length === 0) throw new QueryError(`empty ${what} list`);
  if (items.length > MAX_LIST) throw new QueryError(`too many ${what}s (at most ${MAX_LIST})`);
  return items;
}

export default async function metricRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const ctx = opts.ctx;
  const e = ctx.engine;

  /** The agent selection, with the strict-404 check. */
  const agents = (segment: string, now: number): AgentSelector => {
    const sel = parseAgents(segment);
    if (ctx.strictNotFound && !sel.all && e.query.selectAgents(sel, now).length === 0) {
      throw new HttpError(404, `unknown agent ${JSON.stringify(segment.slice(0, 100))}`);
    }
    return sel;
  };
  const params = (req: FastifyRequest) => req.params as { agent: string; metric: string };

  app.get(
    '/metrics/json',
    {
      schema: {
        summary: 'Every metric name with the ms since it was last updated',
        tags: ['metrics'],
        response: { 200: { type: 'object', additionalProperties: { type: 'number' } } },
      },
    },
    async (_req, reply) => sendJson(reply, e.query.metricNames(e.clock.now())),
  );

  app.get(
    '/metric/:agent/json',
    {
      schema: {
        summary: 'All metrics of an agent: {"<dataSource>.<metric>": value}',
        description: '`ALL` is not accepted here and gives {} (as sFlow-RT).',
        tags: ['metrics'],
        params: { type: 'object', properties: { agent: agentParam }, required: ['agent'] },
        querystring: filterQuery,
        response: { 200: { type: 'object', additionalProperties: { type: ['number', 'string'] } } },
      },
    },
    async (req, reply) => {
      const now = e.clock.now();
      const sel = agents(params(req).agent, now);
      return sendJson(reply, e.query.agentMetrics(sel, parseFilter(req.query as Record<string, unknown>), now));
    },
  );

  app.get(
    '/metric/:agent/:metric/json',
    {
      schema: {
        summary: 'Statistics of metrics across agents and data sources',
        description:
          'Each metric is `[stat:][dataSource.]name`, stat one of max (default), min, sum, avg, var, sdev, med, q1, q2, q3, iqr, any. One Statistic per metric, in order; a metric with no data gives only its metricName.',
        tags: ['metrics'],
        params: { type: 'object', properties: { agent: agentParam, metric: metricParam }, required: ['agent', 'metric'] },
        querystring: filterQuery,
        response: { 200: { type: 'array', items: statisticObject } },
      },
    },
    async (req, reply) => {
      const now = e.clock.now();
      const p = params(req);
      const specs = list(p.metric, 'metric').map(parseMetricSpec);
      const sel = agents(p.agent, now);
      return sendJson(reply, e.query.statistics(sel, specs, parseFilter(req.query as Record<string, unknown>), now));
    },
  );

  app.get(
    '/table/:agent/:metric/json',
    {
      schema: {
        summary: 'A table: one row per data source having every column',
        description: 'Columns: `name` (required), `null:name` (optional, null when missing), `sort:name:N` (sort; N < 0 descending; |N| rows at most).',
        tags: ['metrics'],
        params: { type: 'object', properties: { agent: agentParam, metric: metricParam }, required: ['agent', 'metric'] },
        querystring: filterQuery,
        response: { 200: { type: 'array', items: { type: 'array', items: { anyOf: [metricObject, { type: 'null' }] } } } },
      },
    },
    async (req, reply) => {
      const now = e.clock.now();
      const p = params(req);
      const cols = list(p.metric, 'column').map(parseColumn);
      if (cols.filter((c) => c.sort !== null).length > 1) throw new QueryError('at most one sort: column');
      const sel = agents(p.agent, now);
      return sendJson(reply, e.query.table(sel, cols, parseFilter(req.query as Record<string, unknown>), now));
    },
  );

  app.get(
    '/dump/:agent/:metric/json',
    {
      schema: {
        summary: 'Every value of the metrics (or ALL metrics) per agent and data source',
        tags: ['metrics'],
        params: { type: 'object', properties: { agent: agentParam, metric: metricParam }, required: ['agent', 'metric'] },
        querystring: filterQuery,
        response: { 200: { type: 'array', items: metricObject } },
      },
    },
    async (req, reply) => {
      const now = e.clock.now();
      const p = params(req);
      const names = list(p.metric, 'metric');
      const specs = names.includes('ALL') ? null : names.map(parseMetricSpec);
      if (specs?.some((s) => s.explicitStat)) throw new QueryError('statistics prefixes are not valid in /dump');
      const sel = agents(p.agent, now);
      return sendJson(reply, e.query.dump(sel, specs, parseFilter(req.query as Record<string, unknown>), now));
    },
  );
}
