import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeLine, encodeFrame, encodeHostFrame, CounterPadCodecError } from './codec.js';
import { fitArgText } from './gb2312.js';
import { LineFramer, type RawLine } from './line-framer.js';
import type { Frame } from './messages.js';

interface Vectors {
  valid: Array<{ name: string; hex: string; frame: Frame }>;
  rejected: Array<{ name: string; hex: string; reason: string }>;
}
const vectors = JSON.parse(readFileSync(new URL('../../firmware-protocols/vectors/counter-pad.json', import.meta.url), 'utf8')) as Vectors;

function withoutCrLf(hex: string): Buffer {
  const bytes = Buffer.from(hex, 'hex');
  expect(bytes.subarray(-2).toString('latin1')).toBe('\r\n');
  return bytes.subarray(0, -2);
}

describe('counter-pad codec against the protocol vectors', () => {
  it('has vectors for every verb in both directions', () => {
    const verbs = new Set(vectors.valid.map((v) => `${v.frame.direction}:${v.frame.message.verb}`));
    expect(verbs.size).toBe(19);
    expect(vectors.rejected.length).toBeGreaterThan(10);
  });

  for (const vector of vectors.valid) {
    it(`decodes and encodes: ${vector.name}`, () => {
      const decoded = decodeLine(withoutCrLf(vector.hex));
      expect(decoded).toEqual({ ok: true, frame: vector.frame });
      expect(encodeFrame(vector.frame).toString('hex').toUpperCase()).toBe(vector.hex);
    });
  }

  for (const vector of vectors.rejected) {
    it(`rejects: ${vector.name} (${vector.reason})`, () => {
      const decoded = decodeLine(withoutCrLf(vector.hex));
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.reason).toBe(vector.reason);
        expect(decoded.detail.length).toBeGreaterThan(0);
      }
    });
  }
});

describe('encoding guards', () => {
  it('refuses values the protocol cannot carry', () => {
    expect(() => encodeHostFrame(0, 0, { verb: 'BEEP', count: 1 })).toThrow(CounterPadCodecError);
    expect(() => encodeHostFrame(1, 16, { verb: 'BEEP', count: 1 })).toThrow(CounterPadCodecError);
    expect(() => encodeHostFrame(1, 0, { verb: 'DISP', line1: 'a|b' })).toThrow(/GB2312/);
    expect(() => encodeHostFrame(1, 0, { verb: 'DISP', line1: '办'.repeat(17) })).toThrow(/32/);
    expect(() => encodeHostFrame(1, 0, { verb: 'DISP', line1: '€' })).toThrow(CounterPadCodecError);
  });

  it('fitArgText replaces non-GB2312 characters and cuts at a character boundary', () => {
    expect(fitArgText('A023 办理中', 32).text).toBe('A023 办理中');
    expect(fitArgText('a|b*c€丂', 32).text).toBe('a?b?c??');
    const cut = fitArgText('办'.repeat(20), 31);
    expect(cut.bytes.length).toBe(30);
    expect(cut.text).toBe('办'.repeat(15));
  });
});

describe('decode never throws', () => {
  const validLines = vectors.valid.map((v) => withoutCrLf(v.hex));

  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = decodeLine(Buffer.from(bytes));
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('on mutated valid lines (bit flips, insertions, truncation), and a decoded frame re-encodes', () => {
    const mutation = fc.record({
      index: fc.nat(validLines.length - 1),
      edits: fc.array(fc.record({ at: fc.nat(200), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('set', 'insert', 'delete', 'cut') }), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(mutation, ({ index, edits }) => {
        const bytes = [...validLines[index]!];
        for (const { at, byte, op } of edits) {
          const pos = at % (bytes.length + 1);
          if (op === 'set' && pos < bytes.length) bytes[pos] = byte;
          if (op === 'insert') bytes.splice(pos, 0, byte);
          if (op === 'delete') bytes.splice(pos, 1);
          if (op === 'cut') bytes.length = pos;
        }
        const result = decodeLine(Buffer.from(bytes));
        if (result.ok) {
          // Whatever is accepted is a well-formed frame: it encodes back without error.
          expect(() => encodeFrame(result.frame)).not.toThrow();
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips arbitrary display text made safe by fitArgText', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'binary' }), fc.nat(15), (raw, seq) => {
        const line1 = fitArgText(raw, 32).text;
        const bytes = encodeHostFrame(7, seq, { verb: 'DISP', line1 });
        const decoded = decodeLine(bytes.subarray(0, -2));
        expect(decoded).toEqual({ ok: true, frame: { direction: 'to-pad', address: 7, seq, message: { verb: 'DISP', line1 } } });
      }),
      { numRuns: 150 },
    );
  });
});

describe('LineFramer', () => {
  it('splits on CR LF across chunk boundaries and bounds an endless line', async () => {
    const framer = new LineFramer(20);
    const out: RawLine[] = [];
    framer.on('data', (line: RawLine) => out.push(line));
    framer.write(Buffer.from('<013|NE'));
    framer.write(Buffer.from('XT*00\r\n\r\n'));
    framer.write(Buffer.alloc(100, 0x41));
    framer.write(Buffer.alloc(100, 0x41));
    framer.write(Buffer.from('\r\nabc\n'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.map((l) => [l.bytes.toString('latin1'), l.overflow])).toEqual([
      ['<013|NEXT*00', false],
      ['AAAAAAAAAAAAAAAA', true],
      ['abc', false],
    ]);
    framer.destroy();
  });
});
