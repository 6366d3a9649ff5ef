import { frameLines, SyncLineFramer } from '../framer-adapter.js';
import { randomBytes } from '../mutate.js';
import { PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * The bounded line framer every line-based serial device goes through (src/platform/serial/
 * line-framer.ts: counter pads, scanner, appointment reader), against a model: split at LF, drop
 * one CR before it, drop empty lines, report an overlong line once and skip to the next LF.
 * Most inputs hold no LF at all, so the long-lived framer sees lines that never end.
 */
interface Input {
  bytes: Buffer;
  chunk: number;
  limit: number;
}

/** What the framer should emit, computed the obvious way on the whole input. */
function model(bytes: Buffer, limit: number): Array<{ overflow: boolean; hex: string }> {
  const out: Array<{ overflow: boolean; hex: string }> = [];
  let from = 0;
  for (;;) {
    const lf = bytes.indexOf(0x0a, from);
    const line = bytes.subarray(from, lf < 0 ? bytes.length : lf);
    if (line.length > limit) out.push({ overflow: true, hex: line.subarray(0, 16).toString('hex') });
    else if (lf >= 0) {
      const text = line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
      if (text.length > 0) out.push({ overflow: false, hex: text.toString('hex') });
    }
    if (lf < 0) return out;
    from = lf + 1;
  }
}

const LONG_LIVED_LIMIT = 130;
const longLived = new SyncLineFramer(LONG_LIVED_LIMIT);

export const lineFramer: FuzzTarget<Input> = {
  name: 'line-framer',
  parser: 'src/platform/serial/line-framer.ts (shared by pads, scanner, reader)',
  sources: [
    { name: 'random lines', weight: 3, next: (rng) => ({ bytes: randomBytes(rng, 400, [0x0a, 0x0d, 0x0d, 0x41]), chunk: rng.pick([1, 2, 7, 64, 4096]), limit: rng.pick([1, 16, 66, 130, 2050]) }) },
    // No LF anywhere: a device (or noise) that never ends its line.
    { name: 'endless line', weight: 3, next: (rng) => ({ bytes: Buffer.alloc(rng.below(3000), rng.pick([0x41, 0x0d, 0x00, 0xff])), chunk: rng.pick([1, 64, 4096]), limit: rng.pick([16, 66, 130]) }) },
    {
      name: 'near the limit',
      weight: 3,
      next: (rng) => {
        const limit = rng.pick([16, 66, 130]);
        const parts = Array.from({ length: 1 + rng.below(4) }, () => Buffer.concat([Buffer.alloc(limit + rng.int(-2, 2), 0x41), Buffer.from(rng.pick(['\n', '\r\n', '\r\r\n', '']))]));
        return { bytes: Buffer.concat(parts), chunk: rng.pick([1, 3, limit, limit + 1, 4096]), limit };
      },
    },
  ],
  run({ bytes, chunk, limit }): Verdict {
    const lines = frameLines(new SyncLineFramer(limit), bytes, chunk).map((l) => ({ overflow: l.overflow, hex: l.bytes.toString('hex') }));
    const expected = model(bytes, limit);
    // Whatever the chunking, the same lines in the same order. An overlong line is reported by its
    // start: as many of its first 16 bytes as the framer had seen when the line went over the limit.
    const same = (l: { overflow: boolean; hex: string }, m: { overflow: boolean; hex: string } | undefined): boolean =>
      m !== undefined && l.overflow === m.overflow && (l.overflow ? m.hex.startsWith(l.hex) && l.hex.length >= 2 * Math.min(16, limit + 1) : l.hex === m.hex);
    if (lines.length !== expected.length || lines.some((l, i) => !same(l, expected[i]))) {
      throw new PropertyViolation(`framer gave ${JSON.stringify(lines).slice(0, 300)}, model ${JSON.stringify(expected).slice(0, 300)}`);
    }
    return lines.some((l) => !l.overflow) ? 'accepted' : 'refused';
  },
  toJson: (input) => ({ hex: input.bytes.toString('hex'), chunk: input.chunk, limit: input.limit }),
  fromJson: (json) => {
    const { hex, chunk, limit } = json as { hex: string; chunk: number; limit: number };
    return { bytes: Buffer.from(hex, 'hex'), chunk, limit };
  },
  stream: {
    feed: (input) => void longLived.write(input.bytes),
    buffered: () => longLived.buffered(),
    bound: LONG_LIVED_LIMIT,
  },
};
