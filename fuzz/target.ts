import type { Rng } from './rng.js';

/** What the parser made of one input. A refusal is the parser's own typed "no". */
export type Verdict = 'accepted' | 'refused';

/**
 * A verdict with a property check that is too dear to count towards the input's time (the
 * config round trip parses twice more): the engine times run() and then calls verify().
 */
export interface DeferredCheck {
  verdict: Verdict;
  verify(): void;
}

export type RunResult = Verdict | DeferredCheck;

export function settle(result: RunResult): Verdict {
  if (typeof result === 'string') return result;
  result.verify();
  return result.verdict;
}

/** A broken property (re-encoding differs, a count does not add up): a bug even without a throw. */
export class PropertyViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyViolation';
  }
}

export interface InputSource<I> {
  /** mutation | random | structured — reported per target so a run shows its mix. */
  name: string;
  weight: number;
  next(rng: Rng): I;
}

/**
 * One parser under fuzz. `run` feeds one input and returns the verdict; it throws only when the
 * parser threw something other than its typed refusal (passed through as is) or a property broke
 * (PropertyViolation). Inputs go to disk as JSON (regression vectors), so each target says how.
 */
export interface FuzzTarget<I> {
  name: string;
  /** The code under test, for the report. */
  parser: string;
  sources: ReadonlyArray<InputSource<I>>;
  run(input: I): RunResult;
  /** The time one input may take, in ms, when more than the engine's SLOW_INPUT_MS (see config-yaml); asked only of inputs slower than that. */
  slowLimitMs?(input: I): number;
  /**
   * Processes `npm run fuzz` splits the target's inputs over (each with its own seed and heap
   * check): for a target much dearer per input than the rest, so both cores finish together.
   */
  shards?: number;
  toJson(input: I): unknown;
  fromJson(json: unknown): I;
  /**
   * Optional long-lived parser state fed every input of the run (a wire that never resets), so
   * the heap check covers what a stream decoder keeps between inputs. Not called on replay.
   */
  stream?: { feed(input: I): void; /** Bytes of buffered state, must stay under `bound`. */ buffered(): number; bound: number };
}

// Inputs are serialised uniformly: Buffers as hex, everything else as JSON.
export const bytesJson = {
  toJson: (input: Buffer): unknown => ({ hex: input.toString('hex') }),
  fromJson: (json: unknown): Buffer => Buffer.from((json as { hex: string }).hex, 'hex'),
};

/** Bytes fed to a stream decoder in chunks of `chunk` bytes (wire targets). */
export interface ChunkedBytes {
  bytes: Buffer;
  chunk: number;
}

export const chunkedBytesJson = {
  toJson: (input: ChunkedBytes): unknown => ({ hex: input.bytes.toString('hex'), chunk: input.chunk }),
  fromJson: (json: unknown): ChunkedBytes => {
    const { hex, chunk } = json as { hex: string; chunk: number };
    return { bytes: Buffer.from(hex, 'hex'), chunk };
  },
};

/**
 * Whether two values write the same JSON (keys in any order, Buffers as their bytes). A strict
 * structural walk answers "same" without building strings (it ran for every decoded frame and
 * cost more than the decoders); anything it does not call equal is settled by comparing the
 * sorted-key JSON, so the answer is always the JSON one.
 */
export function equalJson(a: unknown, b: unknown): boolean {
  return sameStructure(a, b) || stableStringify(a) === stableStringify(b);
}

/** True only when both values certainly write the same JSON; false means "compare the JSON". */
function sameStructure(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') return false; // JSON refuses them: let stringify say so
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aBuffer = Buffer.isBuffer(a);
  if (aBuffer || Buffer.isBuffer(b)) return aBuffer && Buffer.isBuffer(b) && a.equals(b as Buffer);
  if (typeof (a as { toJSON?: unknown }).toJSON === 'function' || typeof (b as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameStructure(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const keys = Object.keys(aRecord);
  if (keys.length !== Object.keys(bRecord).length) return false;
  for (const key of keys) if (!Object.prototype.hasOwnProperty.call(bRecord, key) || !sameStructure(aRecord[key], bRecord[key])) return false;
  return true;
}

/** JSON with sorted keys and Buffers as hex, for comparing decoded messages. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const record = v as Record<string, unknown>;
      if (record.type === 'Buffer' && Array.isArray(record.data)) return Buffer.from(record.data as number[]).toString('hex');
      return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
    }
    return v;
  });
}
