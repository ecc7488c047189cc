// `sflowscope serve` settings: one table gives each setting's flag, environment variable,
// default and meaning. `--help` and docs/configuration.md are written from it (a test checks that
// the doc lists every row). Precedence: flag > environment > default.

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
}

type Kind = 'port' | 'string' | 'path' | 'bool' | 'count' | 'bytes' | 'duration' | 'pace' | 'level';

export interface OptionDef {
  key: keyof ServerConfig;
  flag: string;
  env: string;
  kind: Kind;
  /** Default as written in --help and docs. */
  defaultText: string;
  help: string;
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
  { key: 'udpThread', flag: '--udp-thread', env: 'SFLOWSCOPE_UDP_THREAD', kind: 'bool', defaultText: 'true', help: 'Receive UDP on a separate thread (datagrams reach the engine through a shared-memory ring); false = on the main thread.' },
  { key: 'maxDatagramBytes', flag: '--max-datagram-bytes', env: 'SFLOWSCOPE_MAX_DATAGRAM_BYTES', kind: 'count', defaultText: '65535', help: 'Larger datagrams are counted (sFlowDatagramsTooLarge) and discarded.' },
  { key: 'maxAgents', flag: '--max-agents', env: 'SFLOWSCOPE_MAX_AGENTS', kind: 'count', defaultText: '10000', help: 'Most agents held; beyond it the least recently seen is evicted (counted).' },
  { key: 'maxDataSources', flag: '--max-data-sources', env: 'SFLOWSCOPE_MAX_DATA_SOURCES', kind: 'count', defaultText: '250000', help: 'Most data sources held in all; the least recently seen is evicted (counted).' },
  { key: 'maxDataSourcesPerAgent', flag: '--max-data-sources-per-agent', env: 'SFLOWSCOPE_MAX_DATA_SOURCES_PER_AGENT', kind: 'count', defaultText: '4096', help: 'Most data sources held for one agent.' },
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
  { key: 'maxEvents', flag: '--max-events', env: 'SFLOWSCOPE_MAX_EVENTS', kind: 'count', defaultText: '1000', help: 'Threshold events kept for /events/json; the oldest go first (sFlow-RT events.max).' },
  { key: 'eventMaxAgeMs', flag: '--event-max-age', env: 'SFLOWSCOPE_EVENT_MAX_AGE', kind: 'duration', defaultText: '24h', help: 'Threshold events older than this are dropped.' },
  { key: 'thresholdIntervalMs', flag: '--threshold-interval', env: 'SFLOWSCOPE_THRESHOLD_INTERVAL', kind: 'duration', defaultText: '1s', help: 'How often thresholds are evaluated (at least 100ms).' },
  { key: 'longPollMaxWaiters', flag: '--long-poll-max-waiters', env: 'SFLOWSCOPE_LONG_POLL_MAX_WAITERS', kind: 'count', defaultText: '1000', help: 'Most long-poll requests (/events/json with timeout) waiting at once; beyond it 503 with Retry-After.' },
  { key: 'longPollMaxTimeoutMs', flag: '--long-poll-max-timeout', env: 'SFLOWSCOPE_LONG_POLL_MAX_TIMEOUT', kind: 'duration', defaultText: '60s', help: 'Longest wait granted to a long-poll request, whatever its timeout parameter asks.' },
  { key: 'prometheusMaxSeries', flag: '--prometheus-max-series', env: 'SFLOWSCOPE_PROMETHEUS_MAX_SERIES', kind: 'count', defaultText: '100000', help: 'Most series in one answer of the /prometheus and /app/prometheus endpoints; the rest are left out and counted (sflowscope_prometheus_series_dropped_total).' },
  { key: 'flowMaxKeys', flag: '--flow-max-keys', env: 'SFLOWSCOPE_FLOW_MAX_KEYS', kind: 'count', defaultText: '1000', help: 'Key budget of each flow on each data source: beyond it the key with the smallest value is evicted (counted in flowKeyEvictions).' },
  { key: 'flowMaxEntries', flag: '--flow-max-entries', env: 'SFLOWSCOPE_FLOW_MAX_ENTRIES', kind: 'count', defaultText: '1000000', help: 'Flow keys held across all flows and data sources; beyond it the table being added to evicts its smallest key.' },
  { key: 'flowTimeoutMs', flag: '--flow-timeout', env: 'SFLOWSCOPE_FLOW_TIMEOUT', kind: 'duration', defaultText: '5s', help: 'A logged flow (log:true) whose key had no sample for this long ends at its last sample; 0 = sFlow-RT 3.1 timing (idle flows end at a 10 s sweep once activeTimeout old). See docs/flows.md.' },
  { key: 'geoipCountry', flag: '--geoip-country', env: 'SFLOWSCOPE_GEOIP_COUNTRY', kind: 'path', defaultText: '(none)', help: 'GeoLite2-Country database (.mmdb) for the country: flow key function; without one country: keys are null.' },
  { key: 'geoipAsn', flag: '--geoip-asn', env: 'SFLOWSCOPE_GEOIP_ASN', kind: 'path', defaultText: '(none)', help: 'GeoLite2-ASN database (.mmdb) for the asn: flow key function; without one asn: keys are null.' },
  { key: 'flowLogMax', flag: '--flow-log-max', env: 'SFLOWSCOPE_FLOW_LOG_MAX', kind: 'count', defaultText: '1000', help: 'Completed flow records kept for /flows/json (sFlow-RT flows.max); the oldest go first.' },
  { key: 'prometheusComments', flag: '--prometheus-comments', env: 'SFLOWSCOPE_PROMETHEUS_COMMENTS', kind: 'bool', defaultText: 'true', help: 'Write `# HELP` and `# TYPE` lines in the sFlow-RT compatible Prometheus answers; false = sample lines only, exactly as sFlow-RT.' },
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
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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

/** The --help text of `serve`. */
export function serveHelp(): string {
  const rows: [string, string, string][] = [[`${BIND_OPTION.flag} ADDR`, BIND_OPTION.env, `${BIND_OPTION.help} Default ${BIND_OPTION.defaultText}.`]];
  for (const d of OPTIONS) {
    const arg = d.kind === 'bool' ? '' : ` ${d.kind === 'duration' ? 'DURATION' : d.kind === 'bytes' ? 'SIZE' : d.kind === 'path' ? 'PATH' : d.kind === 'port' ? 'PORT' : d.kind === 'count' ? 'N' : d.kind === 'pace' ? 'realtime|max' : d.kind === 'level' ? 'LEVEL' : 'ADDR'}`;
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
