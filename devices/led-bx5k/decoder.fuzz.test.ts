import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Bx5kDecoder, type DecodedFrame } from './codec.js';
import { hex, loadBx5kVectors } from './vectors.js';

const vectors = loadBx5kVectors();
const validFrames = [...vectors.requests, ...vectors.replies].map((v) => hex(v.frame));

/** Feeds bytes in the given chunk sizes; returns everything decoded. */
function feed(decoder: Bx5kDecoder, bytes: Buffer, chunkSizes: number[]): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = Math.max(1, chunkSizes[i++ % Math.max(1, chunkSizes.length)] ?? 1);
    out.push(...decoder.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return out;
}

describe('Bx5kDecoder under random input', () => {
  it('never throws on random bytes, and every complete packet it yields has a valid CRC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (bytes, chunks) => {
        const decoder = new Bx5kDecoder({ maxFrameBytes: 512 });
        const frames = feed(decoder, Buffer.from(bytes), chunks);
        expect(decoder.packets + decoder.rejected).toBe(frames.length);
      }),
      { numRuns: 300 },
    );
  });

  it('counts a rejection (or still decodes) for mutated valid frames, and recovers for the next good frame', () => {
    const mutation = fc.record({
      frame: fc.integer({ min: 0, max: validFrames.length - 1 }),
      edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      chunks: fc.array(fc.integer({ min: 1, max: 32 }), { minLength: 1 }),
    });
    let rejectedRuns = 0;
    fc.assert(
      fc.property(mutation, ({ frame, edits, cut, chunks }) => {
        const original = validFrames[frame]!;
        const mutated = Buffer.from(original);
        for (const edit of edits) mutated[edit.at % mutated.length] = edit.value;
        const damaged = cut === undefined ? mutated : mutated.subarray(0, cut % mutated.length);
        const good = validFrames[(frame + 1) % validFrames.length]!;
        const decoder = new Bx5kDecoder();
        const frames = feed(decoder, Buffer.concat([damaged, good]), chunks);
        if (decoder.rejected > 0) rejectedRuns += 1;
        // Whatever happened to the damaged frame, the good one after it comes out intact.
        const last = frames[frames.length - 1];
        expect(last?.kind).toBe('packet');
        expect(frames.filter((f) => f.kind === 'packet').length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 500 },
    );
    // The property must not be passing only because mutations were harmless.
    expect(rejectedRuns).toBeGreaterThan(100);
  });
});
