import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  level?: string;
  /** Pretty, coloured lines for a person at a terminal; JSON lines (for journald) otherwise. */
  pretty?: boolean;
  /** Where lines go; stdout when absent. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/** Log fields that would hold a visitor's phone number or account id, at any of three depths. */
export const CONTACT_PATHS = ['contact', '*.contact', '*.*.contact'];

/**
 * The process logger. JSON lines on stdout are what journald stores; a terminal gets pino-pretty
 * so an operator running `hall-edge demo` can read it.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.HALL_EDGE_LOG_LEVEL ?? 'info',
    base: { app: 'hall-edge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Visitors' contacts (src/notify) are never logged on purpose; this catches a mistake.
    redact: { paths: CONTACT_PATHS, censor: '[redacted]' },
  };
  if (settings.destination) return pino(options, settings.destination as pino.DestinationStream);
  const pretty = settings.pretty ?? (process.stdout.isTTY === true && process.env.HALL_EDGE_LOG_JSON !== '1');
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' } },
    });
  }
  // Written by libuv off the event loop rather than one blocking write per line: a call-next logs
  // a few lines, and a synchronous write to journald's pipe would sit on the call's path. pino
  // flushes what is buffered when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

/** A logger that drops everything: for unit tests of code that wants one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
