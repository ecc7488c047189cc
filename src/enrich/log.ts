// The logging the enrichment components need: a subset of pino's Logger (src/log.ts), so the
// server passes its logger and tests pass nothing. Nothing here logs per sample: only start/stop,
// configuration problems and changes of connection state.

export interface EnrichLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLog: EnrichLog = { debug: noop, info: noop, warn: noop, error: noop };
