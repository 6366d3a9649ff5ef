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
  /** The time one input may take, in ms, when it is not the engine's SLOW_INPUT_MS (see config-yaml). */
  slowLimitMs?(input: I): number;
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

export function equalJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
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
