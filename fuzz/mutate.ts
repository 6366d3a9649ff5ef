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

export function mutateBytes(rng: Rng, seeds: readonly Buffer[], options: MutateOptions = {}): Buffer {
  const interesting = [...GENERIC, ...(options.interesting ?? [])];
  const maxLength = options.maxLength ?? 4096;
  let data: number[] = [...rng.pick(seeds)];
  const rounds = 1 + rng.below(rng.chance(0.2) ? 16 : 4);
  for (let r = 0; r < rounds; r += 1) {
    const at = rng.below(data.length + 1);
    switch (rng.below(9)) {
      case 0: // flip a bit
        if (data.length > 0) data[at % data.length]! ^= 1 << rng.below(8);
        break;
      case 1: // overwrite with a random byte
        if (data.length > 0) data[at % data.length] = rng.below(256);
        break;
      case 2: // overwrite with an interesting byte
        if (data.length > 0) data[at % data.length] = rng.pick(interesting);
        break;
      case 3: // insert interesting / random bytes
        data.splice(at, 0, ...Array.from({ length: 1 + rng.below(4) }, () => (rng.chance(0.5) ? rng.pick(interesting) : rng.below(256))));
        break;
      case 4: // delete a run
        data.splice(at, 1 + rng.below(8));
        break;
      case 5: { // duplicate a run in place
        const from = rng.below(data.length + 1);
        const run = data.slice(from, from + 1 + rng.below(32));
        data.splice(at, 0, ...run);
        break;
      }
      case 6: { // splice in part of another seed
        const other = rng.pick(seeds);
        const from = rng.below(other.length + 1);
        data.splice(at, rng.below(8), ...other.subarray(from, from + 1 + rng.below(other.length + 1)));
        break;
      }
      case 7: // truncate
        data = data.slice(0, at);
        break;
      default: // append a whole other seed (two frames back to back)
        data.push(...rng.pick(seeds));
    }
    if (data.length > maxLength) data = data.slice(0, maxLength);
  }
  return Buffer.from(data);
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
