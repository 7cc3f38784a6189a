import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './options.ts';

export type { Logger };

/**
 * Paths redacted from every log line: secrets must never reach a log, even by accident
 * (a request logged with its headers, an options object logged whole).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  'adminToken',
  'seed',
  'secretKey',
  '*.token',
  '*.adminToken',
  '*.seed',
  '*.secretKey',
];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON; default: when stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where the lines go: a file descriptor or a file's path (appended to); default: stdout. */
  readonly destination?: number | string;
}

/**
 * The node's one root logger. Modules take `logger.child({ module })`. JSON lines on stdout,
 * written synchronously so that a line logged just before an exit is not lost and a
 * supervising process (or a test) sees the startup line at once.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options = { level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } };
  if (opts.pretty ?? process.stdout.isTTY === true) {
    return pino(options, pretty({ colorize: true, sync: true, destination: opts.destination ?? 1, translateTime: 'SYS:standard' }));
  }
  return pino(options, pino.destination({ dest: opts.destination ?? 1, sync: true }));
}
