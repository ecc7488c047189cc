// /agents/json (sFlow-RT §2.2) and the per-data-source extension /agents/{agent}/datasources/json.

import type { FastifyInstance } from 'fastify';
import type { AgentState, DataSourceState } from '../engine/agents.js';
import { compareDataSources } from '../engine/query.js';
import type { ApiContext } from './context.js';
import { HttpError } from './errors.js';
import { sendJson } from './json.js';

function age(now: number, t: number): number {
  return Math.max(0, Math.round(now - t));
}

function sumDrops(a: AgentState, kind: 'flowDrops' | 'discardDrops', tracker: 'flow' | 'discard'): number {
  let n = 0;
  for (const ds of a.dataSources.values()) if (ds[tracker] !== null) n += ds[kind];
  return n;
}

/** The sFlow-RT agent object, plus sflowscope extensions (sFlowBytesReceived, sFlowAgentRestarts, sFlowSubAgents, sFlowDatasourcesEvicted). */
export function agentJson(a: AgentState, now: number, isHidden: (ds: DataSourceState) => boolean = () => false): Record<string, unknown> {
  const count = (kind: 'flow' | 'counter' | 'discard') => {
    let n = 0;
    for (const ds of a.dataSources.values()) if (ds[kind] !== null && !isHidden(ds)) n++;
    return n;
  };
  // Sub-agents (e.g. a switch's line cards) report their own uptimes: the agent has been up the longest of them.
  let uptime = a.uptime;
  for (const s of a.subAgents.values()) if (s.uptime > uptime) uptime = s.uptime;
  return {
    sFlowDatagramsReceived: a.datagrams,
    sFlowDatagramsLost: a.datagramsLost,
    sFlowDatagramsDuplicates: a.datagramsDuplicates,
    sFlowDatagramsOutOfOrder: a.datagramsOutOfOrder,
    sFlowDatagramSource: [...a.sources],
    firstSeen: age(now, a.firstSeen),
    lastSeen: age(now, a.lastSeen),
    uptime,
    sFlowFlowSamples: a.flow.samples,
    sFlowFlowLostSamples: a.flow.lost,
    sFlowFlowDuplicateSamples: a.flow.duplicates,
    sFlowFlowOutOfOrderSamples: a.flow.outOfOrder,
    sFlowFlowDrops: sumDrops(a, 'flowDrops', 'flow'),
    sFlowFlowDatasources: count('flow'),
    sFlowCounterSamples: a.counter.samples,
    sFlowCounterLostSamples: a.counter.lost,
    sFlowCounterDuplicateSamples: a.counter.duplicates,
    sFlowCounterOutOfOrderSamples: a.counter.outOfOrder,
    sFlowCounterDatasources: count('counter'),
    sFlowNotificationSamples: a.discard.samples,
    sFlowNotificationLostSamples: a.discard.lost,
    sFlowNotificationDuplicateSamples: a.discard.duplicates,
    sFlowNotificationOutOfOrderSamples: a.discard.outOfOrder,
    sFlowNotificationDrops: sumDrops(a, 'discardDrops', 'discard'),
    sFlowNotificationDatasources: count('discard'),
    sFlowBytesReceived: a.bytes,
    sFlowAgentRestarts: a.restarts,
    sFlowSubAgents: [...a.subAgents.keys()],
    sFlowDatasourcesEvicted: a.dataSourcesEvicted,
  };
}

export function dataSourceJson(ds: DataSourceState, now: number): Record<string, unknown> {
  const out: Record<string, unknown> = { firstSeen: age(now, ds.firstSeen), lastSeen: age(now, ds.lastSeen) };
  if (ds.flow) {
    Object.assign(out, {
      flowSamples: ds.flow.received,
      flowLostSamples: ds.flow.lost,
      flowDuplicateSamples: ds.flow.duplicates,
      flowOutOfOrderSamples: ds.flow.outOfOrder,
      flowDrops: ds.flowDrops,
      samplingRate: ds.samplingRate,
      effectiveSamplingRate: ds.effectiveSamplingRate,
    });
  }
  if (ds.counter) {
    Object.assign(out, {
      counterSamples: ds.counter.received,
      counterLostSamples: ds.counter.lost,
      counterDuplicateSamples: ds.counter.duplicates,
      counterOutOfOrderSamples: ds.counter.outOfOrder,
      effectivePollingInterval: Math.round(ds.pollingInterval),
    });
  }
  if (ds.discard) {
    Object.assign(out, {
      notificationSamples: ds.discard.received,
      notificationLostSamples: ds.discard.lost,
      notificationDuplicateSamples: ds.discard.duplicates,
      notificationOutOfOrderSamples: ds.discard.outOfOrder,
      notificationDrops: ds.discardDrops,
    });
  }
  if (!Number.isNaN(ds.endedAt)) out.ended = age(now, ds.endedAt);
  return out;
}

const agentParam = { type: 'string', minLength: 1, maxLength: 4096, description: 'Agent address' };

export default async function agentRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const ctx = opts.ctx;

  app.get(
    '/agents/json',
    {
      schema: {
        summary: 'sFlow agents and their sequence accounting',
        tags: ['agents'],
        querystring: {
          type: 'object',
          properties: { agent: { anyOf: [{ type: 'string', maxLength: 256 }, { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 1024 }] } },
          additionalProperties: true,
        },
        response: { 200: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } } },
      },
    },
    async (req, reply) => {
      const now = ctx.engine.clock.now();
      const reg = ctx.engine.registry;
      const q = (req.query as { agent?: string | string[] }).agent;
      const wanted = q === undefined ? null : new Set(Array.isArray(q) ? q : [q]);
      const list = [...reg.agents.values()].filter((a) => !reg.isAgentHidden(a, now) && (wanted === null || wanted.has(a.address)));
      list.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
      const body: Record<string, unknown> = {};
      for (const a of list) body[a.address] = agentJson(a, now, (ds) => reg.isHidden(ds, now));
      return sendJson(reply, body);
    },
  );

  app.get(
    '/agents/:agent/datasources/json',
    {
      schema: {
        summary: 'Data sources of one agent: samples, loss, sampling rates, polling interval (sflowscope extension)',
        tags: ['agents'],
        params: { type: 'object', properties: { agent: agentParam }, required: ['agent'] },
        response: { 200: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } } },
      },
    },
    async (req, reply) => {
      const now = ctx.engine.clock.now();
      const reg = ctx.engine.registry;
      const { agent } = req.params as { agent: string };
      const a = reg.agents.get(agent);
      if (a === undefined || reg.isAgentHidden(a, now)) throw new HttpError(404, `unknown agent ${JSON.stringify(agent.slice(0, 100))}`);
      const list = [...a.dataSources.values()].filter((ds) => !reg.isHidden(ds, now));
      list.sort((x, y) => compareDataSources(x.id, y.id));
      const body: Record<string, unknown> = {};
      for (const ds of list) body[ds.id] = dataSourceJson(ds, now);
      return sendJson(reply, body);
    },
  );
}
