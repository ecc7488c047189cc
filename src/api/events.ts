// Events (sFlow-RT §2.6): GET /events/json?thresholdID=&eventID=&maxEvents=&timeout=
// Newest first. `eventID=N` returns only events after N; with `timeout=T` (seconds) and nothing
// newer yet, the request waits up to T seconds (capped, see --long-poll-max-timeout) for new
// events, then answers [] — the sFlow-RT long-poll. Too many waiting requests: 503 + Retry-After.

import type { FastifyInstance } from 'fastify';
import { TooManyWaitersError } from '../engine/events.js';
import type { ApiContext } from './context.js';
import { HttpError } from './errors.js';
import { sendJson } from './json.js';

const eventObject = {
  type: 'object',
  properties: {
    eventID: { type: 'integer' },
    timestamp: { type: 'number', description: 'ms since the epoch (engine time)' },
    thresholdID: { type: 'string' },
    metric: { type: 'string' },
    agent: { type: 'string' },
    dataSource: { type: 'string' },
    value: { type: 'number' },
    threshold: { type: 'number' },
    flowKey: { type: 'string', description: 'byFlow thresholds, and thresholds on a flow metric' },
  },
  required: ['eventID', 'timestamp', 'thresholdID', 'metric', 'agent', 'dataSource', 'value', 'threshold'],
};

function one(q: Record<string, unknown>, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? String(v[v.length - 1]) : String(v);
}

function int(q: Record<string, unknown>, key: string, min: number): number | undefined {
  const s = one(q, key);
  if (s === undefined || s === '') return undefined;
  if (!/^-?\d{1,15}$/.test(s) || Number(s) < min) throw new HttpError(400, `${key}: expected an integer >= ${min}, got ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

export default async function eventRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const events = opts.ctx.registries.events;

  app.get(
    '/events/json',
    {
      schema: {
        summary: 'Threshold events, newest first; long-poll with eventID + timeout',
        tags: ['thresholds'],
        querystring: {
          type: 'object',
          properties: {
            thresholdID: { type: 'string', description: 'Only this threshold' },
            eventID: { type: 'string', description: 'Only events after this id (default -1: all)' },
            maxEvents: { type: 'string', description: 'At most this many, the newest (default 100)' },
            timeout: { type: 'string', description: 'Seconds to wait for new events when there are none (default 0)' },
          },
          additionalProperties: true,
        },
        response: { 200: { type: 'array', items: eventObject } },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const after = int(q, 'eventID', -1) ?? -1;
      const maxEvents = Math.min(int(q, 'maxEvents', 0) ?? 100, events.config.maxEvents);
      const thresholdID = one(q, 'thresholdID') ?? null;
      let timeoutMs = 0;
      const ts = one(q, 'timeout');
      if (ts !== undefined && ts !== '') {
        const t = Number(ts);
        if (!/^\d+(\.\d+)?$/.test(ts) || !Number.isFinite(t)) throw new HttpError(400, `timeout: expected seconds >= 0, got ${JSON.stringify(ts.slice(0, 40))}`);
        timeoutMs = t * 1000;
      }
      const query = { after, maxEvents, thresholdID };
      if (timeoutMs <= 0 || maxEvents === 0) return sendJson(reply, events.query(query));
      // Stop waiting when the client goes away.
      const abort = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) abort.abort();
      };
      reply.raw.once('close', onClose);
      try {
        return sendJson(reply, await events.wait(query, timeoutMs, abort.signal));
      } catch (e) {
        if (e instanceof TooManyWaitersError) {
          reply.header('Retry-After', '1');
          throw new HttpError(503, e.message);
        }
        throw e;
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );
}
