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
export const CONTACT_CENSOR = '[redacted]';

/**
 * `fields` with every `contact` value at depth 1 to 3 (CONTACT_PATHS) replaced by the censor,
 * copied along the way; `fields` itself, untouched, when there is none. Why not pino's `redact`
 * with those paths: its wildcard paths clone and re-parse for every string field of every line
 * (non-strict mode), a tenth of all the daemon allocated at 5,000 issues/s; here a line without
 * a contact costs a walk of its keys and no allocation.
 */
export function redactContacts<T extends object>(fields: T): T {
  return redactBelow(fields, 1) as T;
}

function redactBelow(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in source) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
    const before = source[key];
    let after: unknown;
    if (key === 'contact') after = before === undefined ? before : CONTACT_CENSOR;
    else if (depth < 3) after = redactBelow(before, depth + 1);
    else continue;
    if (after !== before) {
      copy ??= (Array.isArray(source) ? [...(source as unknown[])] : { ...source }) as Record<string, unknown>;
      copy[key] = after;
    }
  }
  return copy ?? value;
}

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
    formatters: { log: redactContacts },
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
  return pino(options, batchedPerTurn(pino.destination({ dest: 1, sync: false })));
}

type LineSink = { write(chunk: string): unknown; flush?(cb?: (err?: Error) => void): void; flushSync?(): void };

const unsent = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Hands the lines logged in one synchronous stretch of work to `sink` as ONE string, at the end
 * of that stretch (a microtask). Why: sonic-boom appends each line to a string and measures that
 * string's byte length at every write, so while a write is in flight a burst of N lines copies
 * O(N²) bytes — a group commit of 128 issues logs 128 lines, and that copying was the largest
 * allocator in the daemon at 5,000 issues/s. The lines, their order and their content are
 * unchanged. Anything still here at exit goes to the sink before pino's own exit flush runs.
 */
export function batchedPerTurn(sink: LineSink): LineSink {
  let lines: string[] = [];
  const drain = (): void => {
    if (lines.length === 0) return;
    const text = lines.length === 1 ? lines[0]! : lines.join('');
    lines = [];
    sink.write(text);
  };
  unsent.add(drain);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Prepended: pino's exit hook (registered when its destination was made) flushes the sink next.
    process.prependListener('exit', () => {
      for (const pending of unsent) pending();
    });
  }
  return {
    write(chunk: string): boolean {
      if (lines.push(chunk) === 1) queueMicrotask(drain);
      return true;
    },
    flush(cb?: (err?: Error) => void): void {
      drain();
      if (sink.flush) sink.flush(cb);
      else cb?.();
    },
    flushSync(): void {
      drain();
      sink.flushSync?.();
    },
  };
}

/** A logger that drops everything: for unit tests of code that wants one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
