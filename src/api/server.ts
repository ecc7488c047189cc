// Server endpoints: /version, /status, /analyzer/json (sFlow-RT §2.2; JVM figures mapped to their
// Node.js equivalents, see docs/configuration.md).

import os from 'node:os';
import v8 from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { BAD_INPUT_REASONS } from '../engine/pipeline.js';
import { sendJson } from './json.js';
import { CpuLoad } from './cpu-load.js';


const textSchema = { 200: { description: 'text', content: { 'text/plain': { schema: { type: 'string' } } } } };

export default async function serverRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const ctx = opts.ctx;
  const cpu = new CpuLoad();

  app.get('/version', { schema: { summary: 'Software version (text)', tags: ['server'], response: textSchema } }, async (_req, reply) => {
    return reply.type('text/plain;charset=utf-8').send(ctx.version);
  });

  app.get('/status', { schema: { summary: 'OK when the engine is running (text)', tags: ['server'], response: textSchema } }, async (_req, reply) => {
    return reply.type('text/plain;charset=utf-8').send('OK');
  });

  app.get(
    '/analyzer/json',
    {
      schema: {
        summary: 'Engine statistics',
        description: 'sFlow-RT fields (JVM figures given as their Node.js equivalents) plus sflowscope extensions: bad input by reason, evictions, kernel UDP drops.',
        tags: ['server'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (_req, reply) => {
      const e = ctx.engine;
      const now = e.clock.now();
      const st = e.pipeline.stats;
      const reg = e.registry;
      cpu.sample();
      const heap = v8.getHeapStatistics();
      const mem = process.memoryUsage();
      const cpuUsage = process.cpuUsage();
      const queueDrops = ctx.udp?.queueDrops?.() ?? 0;
      const badInput: Record<string, number> = {};
      for (const r of BAD_INPUT_REASONS) badInput[r] = st.badInput[r];
      const body: Record<string, unknown> = {
        version: ctx.version,
        uptime: Math.max(0, Math.round(now - e.startedAt)),
        updateAvailable: false,
        sFlowAgents: reg.agents.size,
        sFlowDatagramsReceived: st.datagrams + queueDrops,
        sFlowBytesReceived: st.bytes,
        sFlowDatagramsDiscarded: st.discarded + queueDrops,
        sFlowDatagramsTooLarge: st.tooLarge,
        sFlowParseErrors: st.parseErrors,
        sFlowUnsupportedVersion: st.unsupportedVersion,
        flowsGenerated: 0,
        eventsGenerated: 0,
        httpConnectionsCurrent: ctx.http.connectionsCurrent,
        httpConnectionsTotal: ctx.http.connectionsTotal,
        httpMessagesReceived: ctx.http.messagesReceived,
        httpMessagesSent: ctx.http.messagesSent,
        httpBytesReceived: ctx.http.bytesReceived,
        httpBytesSent: ctx.http.bytesSent,
        availableProcessors: os.availableParallelism(),
        heapInit: 0,
        heapUsed: heap.used_heap_size,
        heapCommitted: heap.total_heap_size,
        heapMax: heap.heap_size_limit,
        nonHeapInit: 0,
        nonHeapUsed: mem.external + mem.arrayBuffers,
        nonHeapCommitted: Math.max(0, mem.rss - heap.total_heap_size),
        nonHeapMax: -1,
        gcCount: ctx.gc.count,
        gcTime: Math.round(ctx.gc.timeMs),
        cpuTime: Math.round((cpuUsage.user + cpuUsage.system) / 1000),
        cpuLoadProcess: cpu.process,
        cpuLoadSystem: cpu.system,
        loadAverage: os.loadavg()[0],
        memTotal: os.totalmem(),
        memFree: os.freemem(),
        threadCount: 1 + Number(process.env.UV_THREADPOOL_SIZE ?? 4),
        threadDaemonCount: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
        threadTotalStartedCount: 1 + Number(process.env.UV_THREADPOOL_SIZE ?? 4),
        javaVersion: process.versions.node,
        jvmName: 'Node.js',
        jvmVendor: 'OpenJS Foundation',
        jvmVersion: process.version,
        osName: os.type(),
        osVersion: os.release(),
        osArch: os.arch() === 'x64' ? 'amd64' : os.arch(),
        // sflowscope extensions
        rssBytes: mem.rss,
        // V8 heap in use right after the last full collection (null before the first one).
        heapUsedAfterGc: ctx.gc.heapAfterMajorBytes,
        sFlowDataSources: reg.dataSourceCount,
        sFlowFlowSamples: st.flowSamples,
        sFlowCounterSamples: st.counterSamples,
        sFlowDiscardSamples: st.discardSamples,
        sFlowDuplicateSamples: st.duplicateSamples,
        sFlowAgentsEvicted: reg.stats.agentsEvicted,
        sFlowAgentsExpired: reg.stats.agentsExpired,
        sFlowAgentRestarts: reg.stats.agentRestarts,
        sFlowDataSourcesEvicted: reg.stats.dataSourcesEvicted,
        sFlowDataSourcesExpired: reg.stats.dataSourcesExpired,
        sFlowDataSourcesStopped: reg.stats.dataSourcesStopped,
        sFlowBadInput: badInput,
        sFlowQueueDrops: queueDrops,
        sFlowUnmappedCounterRecords: e.metrics.stats.unmappedRecords,
        sFlowUnknownCounterRecords: e.metrics.stats.unknownRecords,
        httpConnectionsRefused: ctx.http.connectionsRefused,
        httpRequestsMalformed: ctx.http.requestsMalformed,
        httpRequestsHeadersTooLarge: ctx.http.requestsHeadersTooLarge,
        httpRequestsTimedOut: ctx.http.requestsTimedOut,
        maxAgents: reg.config.maxAgents,
        maxDataSources: reg.config.maxDataSources,
      };
      const drops = ctx.udp?.kernelDrops();
      if (drops !== undefined && drops !== null) body.sFlowKernelDrops = drops;
      const rcvbuf = ctx.udp?.receiveBufferSize();
      if (rcvbuf !== undefined && rcvbuf !== null) body.sFlowReceiveBufferSize = rcvbuf;
      for (const extra of ctx.analyzerExtras) Object.assign(body, extra());
      return sendJson(reply, body);
    },
  );
}
