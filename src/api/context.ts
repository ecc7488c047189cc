// What the REST routes read. Built by src/app.ts; later issues add fields (flow engine...).

import type { Engine } from '../engine/engine.js';
import type { Registries } from '../engine/registries.js';
import type { FlowEngine } from '../engine/flows/engine.js';
import type { AccessStats } from './access/stats.js';

/** Counters of the HTTP server itself, for /analyzer/json. */
export interface HttpStats {
  connectionsCurrent: number;
  connectionsTotal: number;
  /** Connections closed on arrival because --http-max-connections were open. */
  connectionsRefused: number;
  /** Requests Node's parser refused before any route (400 malformed, 431 head over --http-max-header-bytes, 408 too slow). */
  requestsMalformed: number;
  requestsHeadersTooLarge: number;
  requestsTimedOut: number;
  messagesReceived: number;
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
}

export function newHttpStats(): HttpStats {
  return { connectionsCurrent: 0, connectionsTotal: 0, connectionsRefused: 0, requestsMalformed: 0, requestsHeadersTooLarge: 0, requestsTimedOut: 0, messagesReceived: 0, messagesSent: 0, bytesReceived: 0, bytesSent: 0 };
}

/** Counters of the UDP receiver, for /analyzer/json (null when not listening). */
export interface UdpStatsView {
  /** Datagrams the kernel dropped for our socket (receive buffer full), or null if unknown. */
  kernelDrops(): number | null;
  /** Effective receive buffer size, bytes. */
  receiveBufferSize(): number | null;
  /** Datagrams received but dropped before the engine (the receive thread's queue was full). */
  queueDrops?(): number;
}

export interface ApiContext {
  /** Requests refused by access control (src/api/access), once it is registered. */
  access?: AccessStats;
  engine: Engine;
  version: string;
  http: HttpStats;
  udp: UdpStatsView | null;
  /** Extra /analyzer/json fields contributed by other components (flowsGenerated...). */
  analyzerExtras: (() => Record<string, number | string>)[];
  /** Garbage-collection counters, filled by the server's GC observer. */
  gc: { count: number; timeMs: number; heapAfterMajorBytes: number | null };
  /** Answer 404 (instead of sFlow-RT's 200 with an empty answer) for unknown agents. */
  strictNotFound: boolean;
  /** Groups, maps, thresholds, events and the state file (src/engine/registries.ts). */
  registries: Registries;
  /** The flow engine (src/engine/flows), when the server runs one. */
  flows?: FlowEngine | null;
}
