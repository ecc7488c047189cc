// Structured logs: pino JSON lines on stdout (or a given destination, for tests).

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const opts = { level, base: { app: 'sflowscope' }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(opts, destination) : pino(opts);
}
