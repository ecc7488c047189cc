// `sflowscope serve` settings: one table gives each setting's flag, environment variable,
// default and meaning. `--help` and docs/configuration.md are written from it (a test checks that
// the doc lists every row). Precedence: flag > environment > default.

import { parseCidr } from './engine/groups.js';

export type PcapPace = 'realtime' | 'max';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  /** UDP port for sFlow; 0 = any free port; -1 = do not listen (capture replay only). */
  sflowPort: number;
  /** TCP port for HTTP; 0 = any free port. */
  httpPort: number;
  sflowBind: string;
  httpBind: string;
  dataDir: string;
  pcap: string | null;
  pcapPace: PcapPace;
  pcapHoldClock: boolean;
  udpRecvBuffer: number;
  /** Shared-memory ring between the receive thread and the engine, bytes. */
  udpRingBytes: number;
  udpThread: boolean;
  maxDatagramBytes: number;
  maxAgents: number;
  maxDataSources: number;
  maxDataSourcesPerAgent: number;
  agentTimeoutMs: number;
  dataSourceTimeoutMs: number;
  stoppedRetentionMs: number;
  sweepIntervalMs: number;
  seqnoMaxDelta: number;
  seqnoMaxOutOfOrder: number;
  strictNotFound: boolean;
  logLevel: LogLevel;
  httpLog: boolean;
  /** Keep flow specs, groups, maps and thresholds in <dataDir>/state.json across restarts. */
  persistState: boolean;
  stateDebounceMs: number;
  maxEvents: number;
  eventMaxAgeMs: number;
  thresholdIntervalMs: number;
  longPollMaxWaiters: number;
  longPollMaxTimeoutMs: number;
  prometheusMaxSeries: number;
  prometheusComments: boolean;
  /** Flow engine (docs/flows.md): key budget per flow and data source. */
  flowMaxKeys: number;
  /** Flow engine: keys held across all flows and data sources. */
  flowMaxEntries: number;
  /** Flow engine: a logged flow without a sample for this long ends (ms); 0 = sFlow-RT 3.1 timing. */
  flowTimeoutMs: number;
  /** Flow engine: completed flow records kept for /flows/json. */
  flowLogMax: number;
  /** GeoLite2-Country database for `country:` keys (null: those keys are null). */
  geoipCountry: string | null;
  /** GeoLite2-ASN database for `asn:` keys. */
  geoipAsn: string | null;
  /** Flow engine: flow definitions held at most (user, app and Prometheus-export specs together). */
  maxFlowSpecs: number;
  /** Custom (rtmetric) metric names kept per data source; standard structures are bounded by the catalogue. */
  maxMetricsPerDataSource: number;
  maxGroups: number;
  maxMaps: number;
  maxThresholds: number;

  // Access (docs/security.md)
  /** Refuse every change (PUT/POST/DELETE) with 403, as sFlow-RT's http.readonly. */
  readonly: boolean;
  /** File of bearer tokens (one per line); null: no authentication. */
  authTokenFile: string | null;
  /** What the tokens protect: `writes` (PUT/POST/DELETE) or `all` requests. */
  authScope: AuthScope;
  /** PEM certificate chain and key: serve HTTPS instead of HTTP. */
  tlsCert: string | null;
  tlsKey: string | null;
  /** Origins allowed cross-origin requests (comma list, or `*`); empty: CORS off. */
  corsOrigin: string;
  /** Largest request body accepted by any route, bytes (413 beyond); routes may set lower limits. */
  httpBodyLimit: number;
  /** Writes (PUT/POST/DELETE) per client address per minute; 0 = unlimited. */
  writeRateLimit: number;
  /** Most HTTP connections open at once (further ones are closed at once). */
  httpMaxConnections: number;
  /** Largest request head (request line + headers), bytes (431 beyond). */
  httpMaxHeaderBytes: number;
  /** Time a client has to send its request headers (408 after). */
  httpHeadersTimeoutMs: number;
  /** Time a client has to send its whole request (408 after). */
  httpRequestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  httpKeepAliveTimeoutMs: number;
  /** sFlow accepted only from these source prefixes (comma list of CIDRs); empty: from anywhere. */
  agentsAllow: string;
}

export type AuthScope = 'writes' | 'all';

type Kind = 'port' | 'string' | 'path' | 'bool' | 'count' | 'count0' | 'bytes' | 'duration' | 'pace' | 'level' | 'scope' | 'cidrs';

export interface OptionDef {
  key: keyof ServerConfig;
  flag: string;
  env: string;
  kind: Kind;
  /** Default as written in --help and docs. */
  defaultText: string;
  help: string;
  /** Argument name in --help, when the kind's is not right. */
  arg?: string;
  /** A bound on memory, work or connections: listed in the limits table of docs/limits.md. */
  limit?: true;
  /** An access-control setting: listed in docs/security.md. */
  access?: true;
}

export const OPTIONS: readonly OptionDef[] = [
  { key: 'sflowPort', flag: '--sflow-port', env: 'SFLOWSCOPE_SFLOW_PORT', kind: 'port', defaultText: '6343', help: 'UDP port receiving sFlow (IPv4 and IPv6). 0 picks a free port; -1 disables the socket (with --pcap).' },
  { key: 'httpPort', flag: '--http-port', env: 'SFLOWSCOPE_HTTP_PORT', kind: 'port', defaultText: '8008', help: 'TCP port of the REST API and UI. 0 picks a free port.' },
  { key: 'sflowBind', flag: '--sflow-bind', env: 'SFLOWSCOPE_SFLOW_BIND', kind: 'string', defaultText: '(--bind)', help: 'Address the sFlow socket binds to.' },
  { key: 'httpBind', flag: '--http-bind', env: 'SFLOWSCOPE_HTTP_BIND', kind: 'string', defaultText: '(--bind)', help: 'Address the HTTP server binds to.' },
  { key: 'dataDir', flag: '--data-dir', env: 'SFLOWSCOPE_DATA_DIR', kind: 'path', defaultText: './data', help: 'Directory for persistent state (created if missing; must be writable).' },
  { key: 'pcap', flag: '--pcap', env: 'SFLOWSCOPE_PCAP', kind: 'path', defaultText: '(none)', help: 'Feed this pcap/pcapng capture into the engine (beside the socket). The engine clock then follows the capture timestamps.' },
  { key: 'pcapPace', flag: '--pcap-pace', env: 'SFLOWSCOPE_PCAP_PACE', kind: 'pace', defaultText: 'max', help: '`realtime`: at the capture\'s own pace; `max`: as fast as possible.' },
  { key: 'pcapHoldClock', flag: '--pcap-hold-clock', env: 'SFLOWSCOPE_PCAP_HOLD_CLOCK', kind: 'bool', defaultText: 'false', help: 'After the capture ends, keep the engine clock at its last timestamp (default: it runs on at wall-clock speed).' },
  { key: 'udpRecvBuffer', flag: '--udp-recv-buffer', env: 'SFLOWSCOPE_UDP_RECV_BUFFER', kind: 'bytes', defaultText: '8MiB', help: 'Requested SO_RCVBUF of the sFlow socket (the kernel caps it at net.core.rmem_max).' },
  { key: 'udpRingBytes', flag: '--udp-ring-size', env: 'SFLOWSCOPE_UDP_RING_SIZE', kind: 'bytes', defaultText: '32MiB', help: 'Shared-memory ring between the receive thread and the engine (with --udp-thread): how long the engine may stall (a large Prometheus scrape, a garbage collection) before datagrams are dropped — 32 MiB holds ~0.5 s at 50,000 datagrams/s of 1.3 KB. Held in memory for good.', limit: true },
  { key: 'udpThread', flag: '--udp-thread', env: 'SFLOWSCOPE_UDP_THREAD', kind: 'bool', defaultText: 'true', help: 'Receive UDP on a separate thread (datagrams reach the engine through a shared-memory ring); false = on the main thread.' },
  { key: 'maxDatagramBytes', flag: '--max-datagram-bytes', env: 'SFLOWSCOPE_MAX_DATAGRAM_BYTES', kind: 'count', defaultText: '65535', help: 'Larger datagrams are counted (sFlowDatagramsTooLarge) and discarded.', limit: true },
  { key: 'maxAgents', flag: '--max-agents', env: 'SFLOWSCOPE_MAX_AGENTS', kind: 'count', defaultText: '10000', help: 'Most agents held; beyond it the least recently seen is evicted (counted).', limit: true },
  { key: 'maxDataSources', flag: '--max-data-sources', env: 'SFLOWSCOPE_MAX_DATA_SOURCES', kind: 'count', defaultText: '250000', help: 'Most data sources held in all; the least recently seen is evicted (counted).', limit: true },
  { key: 'maxDataSourcesPerAgent', flag: '--max-data-sources-per-agent', env: 'SFLOWSCOPE_MAX_DATA_SOURCES_PER_AGENT', kind: 'count', defaultText: '4096', help: 'Most data sources held for one agent.', limit: true },
  { key: 'agentTimeoutMs', flag: '--agent-timeout', env: 'SFLOWSCOPE_AGENT_TIMEOUT', kind: 'duration', defaultText: '600s', help: 'An agent silent this long is removed with everything it reported (sFlow-RT stale.age).' },
  { key: 'dataSourceTimeoutMs', flag: '--data-source-timeout', env: 'SFLOWSCOPE_DATA_SOURCE_TIMEOUT', kind: 'duration', defaultText: '600s', help: 'A data source silent this long is removed (its agent may still be talking).' },
  { key: 'stoppedRetentionMs', flag: '--stopped-retention', env: 'SFLOWSCOPE_STOPPED_RETENTION', kind: 'duration', defaultText: '10s', help: 'A container/VM that reported its end (state shutoff) disappears this long after.' },
  { key: 'sweepIntervalMs', flag: '--sweep-interval', env: 'SFLOWSCOPE_SWEEP_INTERVAL', kind: 'duration', defaultText: '10s', help: 'How often expired entries are removed from memory.' },
  { key: 'seqnoMaxDelta', flag: '--seqno-max-delta', env: 'SFLOWSCOPE_SEQNO_MAX_DELTA', kind: 'count', defaultText: '20', help: 'A sequence jump this large or larger is a resync, counted out-of-order, not as loss (sFlow-RT seqno.maxdelta).' },
  { key: 'seqnoMaxOutOfOrder', flag: '--seqno-max-out-of-order', env: 'SFLOWSCOPE_SEQNO_MAX_OUT_OF_ORDER', kind: 'count', defaultText: '2', help: 'A step back this far at most is a late arrival; further back is a restart (sFlow-RT seqno.maxoutoforder).' },
  { key: 'strictNotFound', flag: '--strict-not-found', env: 'SFLOWSCOPE_STRICT_NOT_FOUND', kind: 'bool', defaultText: 'false', help: 'Answer 404 for an unknown agent in /metric, /table and /dump (sFlow-RT answers 200 with an empty result).' },
  { key: 'logLevel', flag: '--log-level', env: 'SFLOWSCOPE_LOG_LEVEL', kind: 'level', defaultText: 'info', help: 'fatal, error, warn, info, debug, trace or silent. Logs are JSON lines (pino) on stdout.' },
  { key: 'httpLog', flag: '--http-log', env: 'SFLOWSCOPE_HTTP_LOG', kind: 'bool', defaultText: 'false', help: 'Log every HTTP request.' },
  { key: 'persistState', flag: '--persist-state', env: 'SFLOWSCOPE_PERSIST_STATE', kind: 'bool', defaultText: 'true', help: 'Keep flow definitions, groups, maps and thresholds in <data-dir>/state.json and load them at start (docs/state.md); false = in memory only.' },
  { key: 'stateDebounceMs', flag: '--state-debounce', env: 'SFLOWSCOPE_STATE_DEBOUNCE', kind: 'duration', defaultText: '1s', help: 'Delay between a change (PUT/DELETE) and the write of the state file; changes meanwhile go in the same write.' },
  { key: 'maxEvents', flag: '--max-events', env: 'SFLOWSCOPE_MAX_EVENTS', kind: 'count', defaultText: '1000', help: 'Threshold events kept for /events/json; the oldest go first (sFlow-RT events.max).', limit: true },
  { key: 'eventMaxAgeMs', flag: '--event-max-age', env: 'SFLOWSCOPE_EVENT_MAX_AGE', kind: 'duration', defaultText: '24h', help: 'Threshold events older than this are dropped.', limit: true },
  { key: 'thresholdIntervalMs', flag: '--threshold-interval', env: 'SFLOWSCOPE_THRESHOLD_INTERVAL', kind: 'duration', defaultText: '1s', help: 'How often thresholds are evaluated (at least 100ms).' },
  { key: 'longPollMaxWaiters', flag: '--long-poll-max-waiters', env: 'SFLOWSCOPE_LONG_POLL_MAX_WAITERS', kind: 'count', defaultText: '1000', help: 'Most long-poll requests (/events/json with timeout) waiting at once; beyond it 503 with Retry-After.', limit: true },
  { key: 'longPollMaxTimeoutMs', flag: '--long-poll-max-timeout', env: 'SFLOWSCOPE_LONG_POLL_MAX_TIMEOUT', kind: 'duration', defaultText: '60s', help: 'Longest wait granted to a long-poll request, whatever its timeout parameter asks.', limit: true },
  { key: 'prometheusMaxSeries', flag: '--prometheus-max-series', env: 'SFLOWSCOPE_PROMETHEUS_MAX_SERIES', kind: 'count', defaultText: '100000', help: 'Most series in one answer of the /prometheus and /app/prometheus endpoints; the rest are left out and counted (sflowscope_prometheus_series_dropped_total).', limit: true },
  { key: 'flowMaxKeys', flag: '--flow-max-keys', env: 'SFLOWSCOPE_FLOW_MAX_KEYS', kind: 'count', defaultText: '1000', help: 'Key budget of each flow on each data source: beyond it the key with the smallest value is evicted (counted in flowKeyEvictions).', limit: true },
  { key: 'flowMaxEntries', flag: '--flow-max-entries', env: 'SFLOWSCOPE_FLOW_MAX_ENTRIES', kind: 'count', defaultText: '1000000', help: 'Flow keys held across all flows and data sources; beyond it the table being added to evicts its smallest key.', limit: true },
  { key: 'flowTimeoutMs', flag: '--flow-timeout', env: 'SFLOWSCOPE_FLOW_TIMEOUT', kind: 'duration', defaultText: '5s', help: 'A logged flow (log:true) whose key had no sample for this long ends at its last sample; 0 = sFlow-RT 3.1 timing (idle flows end at a 10 s sweep once activeTimeout old). See docs/flows.md.' },
  { key: 'geoipCountry', flag: '--geoip-country', env: 'SFLOWSCOPE_GEOIP_COUNTRY', kind: 'path', defaultText: '(none)', help: 'GeoLite2-Country database (.mmdb) for the country: flow key function; without one country: keys are null.' },
  { key: 'geoipAsn', flag: '--geoip-asn', env: 'SFLOWSCOPE_GEOIP_ASN', kind: 'path', defaultText: '(none)', help: 'GeoLite2-ASN database (.mmdb) for the asn: flow key function; without one asn: keys are null.' },
  { key: 'flowLogMax', flag: '--flow-log-max', env: 'SFLOWSCOPE_FLOW_LOG_MAX', kind: 'count', defaultText: '1000', help: 'Completed flow records kept for /flows/json (sFlow-RT flows.max); the oldest go first.', limit: true },
  { key: 'prometheusComments', flag: '--prometheus-comments', env: 'SFLOWSCOPE_PROMETHEUS_COMMENTS', kind: 'bool', defaultText: 'true', help: 'Write `# HELP` and `# TYPE` lines in the sFlow-RT compatible Prometheus answers; false = sample lines only, exactly as sFlow-RT.' },
  { key: 'maxFlowSpecs', flag: '--max-flows', env: 'SFLOWSCOPE_MAX_FLOWS', kind: 'count', defaultText: '1000', help: 'Most flow definitions held (yours, the apps\' and Prometheus exports\'); one more is refused with 400.', limit: true },
  { key: 'maxMetricsPerDataSource', flag: '--max-metrics-per-data-source', env: 'SFLOWSCOPE_MAX_METRICS_PER_DATA_SOURCE', kind: 'count', defaultText: '1024', help: 'Most custom (rtmetric) metric names kept per data source; further names are refused (counted). Standard sFlow structures are bounded by the structure catalogue.', limit: true },
  { key: 'maxGroups', flag: '--max-groups', env: 'SFLOWSCOPE_MAX_GROUPS', kind: 'count', defaultText: '1000', help: 'Most address groups (/group); one more is refused with 400.', limit: true },
  { key: 'maxMaps', flag: '--max-maps', env: 'SFLOWSCOPE_MAX_MAPS', kind: 'count', defaultText: '1000', help: 'Most maps (/map); one more is refused with 400.', limit: true },
  { key: 'maxThresholds', flag: '--max-thresholds', env: 'SFLOWSCOPE_MAX_THRESHOLDS', kind: 'count', defaultText: '1000', help: 'Most thresholds (/threshold); one more is refused with 400.', limit: true },
  { key: 'readonly', flag: '--readonly', env: 'SFLOWSCOPE_READONLY', kind: 'bool', defaultText: 'false', help: 'Refuse every change (PUT, POST, DELETE) with 403, as sFlow-RT\'s http.readonly.', access: true },
  { key: 'authTokenFile', flag: '--auth-token-file', env: 'SFLOWSCOPE_AUTH_TOKEN_FILE', kind: 'path', defaultText: '(none)', help: 'File of bearer tokens, one per line: requests in --auth-scope must send `Authorization: Bearer <token>` (401 without one or with a wrong one). Without it nothing asks for a token.', access: true },
  { key: 'authScope', flag: '--auth-scope', env: 'SFLOWSCOPE_AUTH_SCOPE', kind: 'scope', defaultText: 'writes', help: '`writes`: tokens guard PUT, POST and DELETE; `all`: every request except /status (for probes).', access: true },
  { key: 'tlsCert', flag: '--tls-cert', env: 'SFLOWSCOPE_TLS_CERT', kind: 'path', defaultText: '(none)', help: 'PEM certificate chain: with --tls-key the API and UI are served over HTTPS only.', access: true },
  { key: 'tlsKey', flag: '--tls-key', env: 'SFLOWSCOPE_TLS_KEY', kind: 'path', defaultText: '(none)', help: 'PEM private key of --tls-cert.', access: true },
  { key: 'corsOrigin', flag: '--cors-origin', env: 'SFLOWSCOPE_CORS_ORIGIN', kind: 'string', arg: 'ORIGIN,...', defaultText: '(off)', help: 'Origins allowed to call the API from a browser page of theirs (comma list of origins, or `*`); without it no cross-origin access.', access: true },
  { key: 'writeRateLimit', flag: '--write-rate-limit', env: 'SFLOWSCOPE_WRITE_RATE_LIMIT', kind: 'count0', defaultText: '600', help: 'Changes (PUT, POST, DELETE) one client address may make per minute; beyond it 429 with Retry-After. 0 = unlimited.', limit: true, access: true },
  { key: 'httpBodyLimit', flag: '--http-body-limit', env: 'SFLOWSCOPE_HTTP_BODY_LIMIT', kind: 'bytes', defaultText: '16MiB', help: 'Largest request body of any route: groups and maps take up to this (200,000 CIDRs fit in the default), thresholds up to 1MiB and flow definitions up to 256KiB below it; a larger body is refused with 413 (before it is read when Content-Length says so).', limit: true },
  { key: 'httpMaxConnections', flag: '--http-max-connections', env: 'SFLOWSCOPE_HTTP_MAX_CONNECTIONS', kind: 'count', defaultText: '1024', help: 'Most HTTP connections open at once; further ones are closed as they arrive (counted).', limit: true },
  { key: 'httpMaxHeaderBytes', flag: '--http-max-header-bytes', env: 'SFLOWSCOPE_HTTP_MAX_HEADER_BYTES', kind: 'bytes', defaultText: '16KiB', help: 'Largest request line plus headers; larger requests get 431.', limit: true },
  { key: 'httpHeadersTimeoutMs', flag: '--http-headers-timeout', env: 'SFLOWSCOPE_HTTP_HEADERS_TIMEOUT', kind: 'duration', defaultText: '10s', help: 'A client that has not sent its request headers within this time gets 408 and is disconnected.', limit: true },
  { key: 'httpRequestTimeoutMs', flag: '--http-request-timeout', env: 'SFLOWSCOPE_HTTP_REQUEST_TIMEOUT', kind: 'duration', defaultText: '30s', help: 'A client that has not sent its whole request (headers and body) within this time gets 408 and is disconnected. Long-poll waits do not count.', limit: true },
  { key: 'httpKeepAliveTimeoutMs', flag: '--http-keep-alive-timeout', env: 'SFLOWSCOPE_HTTP_KEEP_ALIVE_TIMEOUT', kind: 'duration', defaultText: '65s', help: 'An idle keep-alive connection is closed after this long.', limit: true },
  { key: 'agentsAllow', flag: '--agents-allow', env: 'SFLOWSCOPE_AGENTS_ALLOW', kind: 'cidrs', defaultText: '(any)', help: 'Accept sFlow only from these source addresses (comma list of CIDRs, e.g. 10.0.0.0/8,fd00::/8); datagrams from elsewhere are dropped and counted (sFlowBadInput.source_not_allowed).', access: true },
];

/** `--bind` sets both bind addresses (it is not a field of its own). */
export const BIND_OPTION = { flag: '--bind', env: 'SFLOWSCOPE_BIND', defaultText: '::', help: 'Address both sockets bind to (`::` = every IPv4 and IPv6 address).' };

export const DEFAULT_CONFIG: ServerConfig = {
  sflowPort: 6343,
  httpPort: 8008,
  sflowBind: '::',
  httpBind: '::',
  dataDir: './data',
  pcap: null,
  pcapPace: 'max',
  pcapHoldClock: false,
  udpRecvBuffer: 8 * 1024 * 1024,
  udpRingBytes: 32 * 1024 * 1024,
  udpThread: true,
  maxDatagramBytes: 65535,
  maxAgents: 10_000,
  maxDataSources: 250_000,
  maxDataSourcesPerAgent: 4_096,
  agentTimeoutMs: 600_000,
  dataSourceTimeoutMs: 600_000,
  stoppedRetentionMs: 10_000,
  sweepIntervalMs: 10_000,
  seqnoMaxDelta: 20,
  seqnoMaxOutOfOrder: 2,
  strictNotFound: false,
  logLevel: 'info',
  httpLog: false,
  persistState: true,
  stateDebounceMs: 1_000,
  maxEvents: 1_000,
  eventMaxAgeMs: 24 * 3_600_000,
  thresholdIntervalMs: 1_000,
  longPollMaxWaiters: 1_000,
  longPollMaxTimeoutMs: 60_000,
  prometheusMaxSeries: 100_000,
  prometheusComments: true,
  flowMaxKeys: 1000,
  flowMaxEntries: 1_000_000,
  flowTimeoutMs: 5000,
  flowLogMax: 1000,
  geoipCountry: null,
  geoipAsn: null,
  maxFlowSpecs: 1000,
  maxMetricsPerDataSource: 1024,
  maxGroups: 1000,
  maxMaps: 1000,
  maxThresholds: 1000,
  readonly: false,
  authTokenFile: null,
  authScope: 'writes',
  tlsCert: null,
  tlsKey: null,
  corsOrigin: '',
  writeRateLimit: 600,
  httpBodyLimit: 16 * 1024 * 1024,
  httpMaxConnections: 1024,
  httpMaxHeaderBytes: 16 * 1024,
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 30_000,
  httpKeepAliveTimeoutMs: 65_000,
  agentsAllow: '',
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `a, b,,c` → [a, b, c]. */
export function splitList(raw: string): string[] {
  return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `600s`, `10m`, `1h`, `500ms`; a bare number is seconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new ConfigError(`not a duration: ${JSON.stringify(s)} (use e.g. 500ms, 10s, 5m, 1h)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

/** `8388608`, `512KiB`, `8MiB`, `1GiB` (also k/K/KB, M/MB, G/GB as binary multiples). */
export function parseBytes(s: string): number {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(s.trim());
  if (!m) throw new ConfigError(`not a size: ${JSON.stringify(s)}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

function parseValue(def: OptionDef, raw: string): unknown {
  const bad = (what: string) => new ConfigError(`${def.flag}: ${what}: ${JSON.stringify(raw)}`);
  switch (def.kind) {
    case 'port': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < -1 || n > 65535) throw bad('not a port');
      return n;
    }
    case 'count': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw bad('not a positive integer');
      return n;
    }
    case 'count0': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(n) || n < 0) throw bad('not a non-negative integer');
      return n;
    }
    case 'scope':
      if (raw !== 'writes' && raw !== 'all') throw bad('expected writes or all');
      return raw;
    case 'cidrs': {
      const list = splitList(raw);
      for (const c of list) {
        try {
          parseCidr(c);
        } catch (e) {
          throw bad(`not a CIDR (${(e as Error).message})`);
        }
      }
      return list.join(',');
    }
    case 'bytes':
      return parseBytes(raw);
    case 'duration':
      return parseDuration(raw);
    case 'bool': {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on', ''].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw bad('not a boolean');
    }
    case 'pace':
      if (raw !== 'realtime' && raw !== 'max') throw bad('expected realtime or max');
      return raw;
    case 'level':
      if (!LEVELS.includes(raw)) throw bad(`expected one of ${LEVELS.join(', ')}`);
      return raw;
    case 'path':
      if (raw === '') throw bad('empty path');
      return raw;
    default:
      return raw;
  }
}

export interface ParsedArgs {
  config: ServerConfig;
  help: boolean;
  version: boolean;
  /** Arguments that are not options. */
  positional: string[];
}

/** Parse `serve` arguments over the environment over the defaults. Throws ConfigError. */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const cfg: ServerConfig = { ...DEFAULT_CONFIG };
  const set = (def: OptionDef, raw: string) => {
    (cfg as unknown as Record<string, unknown>)[def.key] = parseValue(def, raw);
  };
  const bindEnv = env[BIND_OPTION.env];
  const explicit = new Set<string>();
  for (const def of OPTIONS) {
    const v = env[def.env];
    if (v !== undefined && v !== '') {
      set(def, v);
      explicit.add(def.key);
    }
  }
  let bind: string | undefined = bindEnv !== undefined && bindEnv !== '' ? bindEnv : undefined;
  const byFlag = new Map(OPTIONS.map((d) => [d.flag, d]));
  const positional: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version' || arg === '-V') {
      version = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (flag === BIND_OPTION.flag) {
      value ??= argv[++i];
      if (value === undefined || value === '') throw new ConfigError('--bind needs an address');
      bind = value;
      continue;
    }
    const def = byFlag.get(flag);
    if (def === undefined) throw new ConfigError(`unknown option ${flag} (see --help)`);
    if (def.kind === 'bool') {
      set(def, value ?? 'true');
    } else {
      value ??= argv[++i];
      if (value === undefined) throw new ConfigError(`${flag} needs a value`);
      set(def, value);
    }
    explicit.add(def.key);
  }
  if (bind !== undefined) {
    if (!explicit.has('sflowBind')) cfg.sflowBind = bind;
    if (!explicit.has('httpBind')) cfg.httpBind = bind;
  }
  return { config: cfg, help, version, positional };
}

const ARG_NAMES: Record<Kind, string> = { port: 'PORT', string: 'ADDR', path: 'PATH', bool: '', count: 'N', count0: 'N', bytes: 'SIZE', duration: 'DURATION', pace: 'realtime|max', level: 'LEVEL', scope: 'writes|all', cidrs: 'CIDR,...' };

/** The --help text of `serve`. */
export function serveHelp(): string {
  const rows: [string, string, string][] = [[`${BIND_OPTION.flag} ADDR`, BIND_OPTION.env, `${BIND_OPTION.help} Default ${BIND_OPTION.defaultText}.`]];
  for (const d of OPTIONS) {
    const arg = d.kind === 'bool' ? '' : ` ${d.arg ?? ARG_NAMES[d.kind]}`;
    rows.push([`${d.flag}${arg}`, d.env, `${d.help} Default ${d.defaultText}.`]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = [
    'Usage: sflowscope serve [options]',
    '',
    'Receive sFlow v5 on UDP and serve the sFlow-RT compatible REST API on HTTP.',
    'Every option can also be set with the environment variable shown (flags win).',
    'Durations: 500ms, 10s, 5m, 1h (a bare number is seconds). Sizes: 8MiB, 512KiB, or bytes.',
    '',
  ];
  for (const [f, e, h] of rows) lines.push(`  ${f.padEnd(w)}  ${h}`, `  ${''.padEnd(w)}  env ${e}`);
  lines.push(`  ${'--help'.padEnd(w)}  Show this help.`);
  return lines.join('\n');
}
