import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutateBytes } from '../../fuzz/mutate.js';
import { Rng } from '../../fuzz/rng.js';
import { equalJson, stableStringify } from '../../fuzz/target.js';
import { TARGETS } from '../../fuzz/targets/index.js';
import { loadTarget } from '../../fuzz/targets/load.js';

/**
 * The fuzz harness's own shortcuts (fuzz/target.ts, fuzz/mutate.ts): each replaced something
 * slower, and each must give the answer the slow way gave.
 */
describe('fuzz harness', () => {
  // Values like the decoders emit: nested records, arrays, Buffers, numbers JSON writes oddly.
  const leaf = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(undefined, Number.NaN, -0, 0, Infinity),
    fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes)),
    fc.uint8Array({ maxLength: 4 }),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('node'), { maxKeys: 3 })),
  })).node;

  it('equalJson says "same" exactly when the sorted-key JSON is the same', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(equalJson(a, b)).toBe(stableStringify(a) === stableStringify(b));
        // A value and its structural copy (keys in another order) are always the same.
        expect(equalJson(a, structuredCloneReversed(a))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('equalJson: a Buffer and a plain byte array are different JSON, undefined keys are no keys', () => {
    expect(equalJson(Buffer.from([1, 2]), new Uint8Array([1, 2]))).toBe(false);
    expect(equalJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(equalJson([undefined], [null])).toBe(true);
    expect(equalJson({ a: Buffer.from('ab') }, { a: Buffer.from('ab') })).toBe(true);
    expect(equalJson({ a: Buffer.from('ab') }, { a: Buffer.from('ac') })).toBe(false);
  });

  it('every target loads by its name alone (a fuzz process imports just its own module)', async () => {
    for (const target of TARGETS) expect(await loadTarget(target.name)).toBe(target);
    expect(await loadTarget('no-such-target')).toBeUndefined();
  });

  it('mutateBytes stays under maxLength, repeats with the seed and leaves the seeds alone', () => {
    const seeds = [Buffer.from('<01|NEXT*3A>\r\n'), Buffer.alloc(300, 0x41), Buffer.alloc(0)];
    const copies = seeds.map((seed) => Buffer.from(seed));
    for (const maxLength of [0, 1, 8, 64, 4096]) {
      const a = new Rng(maxLength);
      const b = new Rng(maxLength);
      for (let i = 0; i < 2000; i += 1) {
        const out = mutateBytes(a, seeds, { interesting: [0x3c, 0x3e], maxLength });
        expect(out.length).toBeLessThanOrEqual(maxLength);
        expect(mutateBytes(b, seeds, { interesting: [0x3c, 0x3e], maxLength }).equals(out)).toBe(true);
      }
    }
    seeds.forEach((seed, i) => expect(seed.equals(copies[i]!)).toBe(true));
  });
});

/** A deep copy with object keys in reverse order (Buffers and byte arrays copied as such). */
function structuredCloneReversed(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(structuredCloneReversed);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).reverse().map((key) => [key, structuredCloneReversed((value as Record<string, unknown>)[key])]));
  }
  return value;
}
