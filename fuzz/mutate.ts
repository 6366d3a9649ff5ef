import type { Rng } from './rng.js';

/**
 * Byte-level mutations of seed inputs (protocol test vectors, recorded traffic), in the manner of
 * libFuzzer's mutators: flip, overwrite with an interesting byte, insert, delete, duplicate a
 * run, splice with another seed, truncate. Several are stacked per input.
 */
export interface MutateOptions {
  /** Bytes that mean something to the protocol (delimiters, escapes, prefixes): used often. */
  interesting?: readonly number[];
  /** Upper bound on the output length. */
  maxLength?: number;
}

const GENERIC = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x7e];

/**
 * The input being mutated lives in one reused scratch array, edited in place with copyWithin
 * (a million inputs a target: an array of numbers per input, spread and spliced, cost more than
 * most parsers under test did). Only the finished input is copied out.
 */
let scratch = new Uint8Array(16 * 1024);
let spare = new Uint8Array(64);

function capacity(bytes: number): Uint8Array {
  if (scratch.length < bytes) {
    const grown = new Uint8Array(Math.max(bytes, scratch.length * 2));
    grown.set(scratch);
    scratch = grown;
  }
  return scratch;
}

export function mutateBytes(rng: Rng, seeds: readonly Buffer[], options: MutateOptions = {}): Buffer {
  const extra = options.interesting ?? [];
  const interestingCount = GENERIC.length + extra.length;
  const interesting = (): number => {
    const pick = rng.below(interestingCount);
    return pick < GENERIC.length ? GENERIC[pick]! : extra[pick - GENERIC.length]!;
  };
  const maxLength = options.maxLength ?? 4096;
  const first = rng.pick(seeds);
  let longestSeed = 0;
  for (const seed of seeds) if (seed.length > longestSeed) longestSeed = seed.length;
  // Room for the longest step: the input (never over maxLength after a step, but a seed may start
  // longer) plus a whole seed appended.
  let data = capacity(Math.max(first.length, maxLength) + longestSeed + 64);
  data.set(first);
  let length = first.length;
  /** Opens `count` bytes at `at` (the tail moves right). */
  const open = (at: number, count: number): void => {
    data.copyWithin(at + count, at, length);
    length += count;
  };
  const rounds = 1 + rng.below(rng.chance(0.2) ? 16 : 4);
  for (let r = 0; r < rounds; r += 1) {
    const at = rng.below(length + 1);
    switch (rng.below(9)) {
      case 0: // flip a bit
        if (length > 0) data[at % length]! ^= 1 << rng.below(8);
        break;
      case 1: // overwrite with a random byte
        if (length > 0) data[at % length] = rng.below(256);
        break;
      case 2: // overwrite with an interesting byte
        if (length > 0) data[at % length] = interesting();
        break;
      case 3: { // insert interesting / random bytes
        const count = 1 + rng.below(4);
        open(at, count);
        for (let i = 0; i < count; i += 1) data[at + i] = rng.chance(0.5) ? interesting() : rng.below(256);
        break;
      }
      case 4: { // delete a run
        const count = Math.min(1 + rng.below(8), length - at);
        data.copyWithin(at, at + count, length);
        length -= count;
        break;
      }
      case 5: { // duplicate a run in place
        const from = rng.below(length + 1);
        const count = Math.min(1 + rng.below(32), length - from);
        if (spare.length < count) spare = new Uint8Array(Math.max(64, count));
        spare.set(data.subarray(from, from + count));
        open(at, count);
        data.set(spare.subarray(0, count), at);
        break;
      }
      case 6: { // splice in part of another seed, over up to 7 bytes of this one
        const other = rng.pick(seeds);
        const from = rng.below(other.length + 1);
        const removed = Math.min(rng.below(8), length - at);
        const part = other.subarray(from, from + 1 + rng.below(other.length + 1));
        data.copyWithin(at, at + removed, length);
        length -= removed;
        open(at, part.length);
        data.set(part, at);
        break;
      }
      case 7: // truncate
        length = at;
        break;
      default: { // append a whole other seed (two frames back to back)
        const other = rng.pick(seeds);
        data.set(other, length);
        length += other.length;
      }
    }
    if (length > maxLength) length = maxLength;
    // The steps above need at most a seed's length of room beyond maxLength.
    data = capacity(length + longestSeed + 64);
  }
  const out = Buffer.allocUnsafe(length);
  out.set(data.subarray(0, length));
  return out;
}

/** Random bytes, biased towards the protocol's interesting ones half the time. */
export function randomBytes(rng: Rng, maxLength: number, interesting: readonly number[] = []): Buffer {
  const length = rng.below(maxLength + 1);
  if (interesting.length === 0 || rng.chance(0.5)) return rng.bytes(length);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 1) out[i] = rng.chance(0.3) ? rng.pick(interesting) : rng.below(256);
  return out;
}

/** Replaces one random leaf of a JSON-like value (structure-aware mutation of a valid document). */
export function mutateJsonLeaf(rng: Rng, value: unknown, replacement: () => unknown): unknown {
  if (value === null || typeof value !== 'object') return replacement();
  const copy: unknown = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy as object);
  if (keys.length === 0 || rng.chance(0.15)) return replacement();
  const key = rng.pick(keys);
  const holder = copy as Record<string, unknown>;
  if (rng.chance(0.1)) delete holder[key];
  else holder[key] = mutateJsonLeaf(rng, holder[key], replacement);
  return copy;
}
