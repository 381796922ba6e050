/**
 * @module Structured JSON logs (pino). One logger per process; children carry a component name.
 * Secrets never reach a log line: callers pass ids and counts, never credentials or bodies.
 */
import { pino } from 'pino';

/** The logger type every layer receives by injection. */
export type Logger = pino.Logger;

/** Log levels accepted in configuration. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Creates the process logger writing JSON lines to `destination` (a file descriptor, default stdout). */
export function createLogger(level: LogLevel, destination = 1): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: destination, sync: false }),
  );
}

/** A logger that discards everything, for CLI commands and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
