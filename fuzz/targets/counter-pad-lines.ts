import fc from 'fast-check';
import { decodeLine, encodeFrame, CounterPadCodecError } from '../../devices/counter-pad/codec.js';
import { MAX_LINE_BYTES, type Frame } from '../../devices/counter-pad/messages.js';
import { LineFramer } from '../../devices/counter-pad/line-framer.js';
import { readVectors } from '../corpus.js';
import { frameLines, SyncLineFramer } from '../framer-adapter.js';
import { mutateBytes, randomBytes } from '../mutate.js';
import { fromArbitrary } from '../structured.js';
import { chunkedBytesJson, equalJson, type ChunkedBytes, PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * Counter-pad lines as the driver reads them: bytes → the bounded line framer → decodeLine.
 * Accepted frames must encode again (encodeFrame) and decode to the same frame.
 */
type Input = ChunkedBytes;

interface Vectors {
  valid: Array<{ hex: string; frame: Frame }>;
  rejected: Array<{ hex: string }>;
}

const vectors = readVectors<Vectors>('counter-pad');
const seeds = [...vectors.valid, ...vectors.rejected].map((v) => Buffer.from(v.hex, 'hex'));
// '<' '>' '|' '*' CR LF, hex digits, and GB2312 lead/trail bytes.
const INTERESTING = [0x3c, 0x3e, 0x7c, 0x2a, 0x0d, 0x0a, 0x30, 0x46, 0x61, 0xa1, 0xb0, 0xf7, 0xfe, 0x80];
// The pad protocol's framer (devices/counter-pad/line-framer.ts) allows a line and its CR LF.
const FRAMER_LIMIT = MAX_LINE_BYTES + 2;

const ticket = fc.stringMatching(/^[A-Z]{1,2}[0-9]{1,4}$/);
const ident = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);
const text = fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('暂停', '请稍候', '窗口 3', 'A023 到 3 号', '', '|', '*'));
const padMessage = fc.oneof(
  fc.record({ verb: fc.constant('LOGIN' as const), staffId: ident, pin: fc.option(fc.stringMatching(/^[0-9]{4,8}$/), { nil: undefined }) }),
  fc.constantFrom('LOGOUT', 'NEXT', 'RECALL', 'SKIP', 'START', 'FINISH', 'RESUME', 'ACK').map((verb) => ({ verb })),
  fc.record({ verb: fc.constant('TRANSFER' as const), toServiceId: ident }),
  fc.record({ verb: fc.constant('TRANSFER' as const), toWindowNumber: fc.integer({ min: 1, max: 999 }) }),
  fc.record({ verb: fc.constant('PAUSE' as const), reason: fc.option(text, { nil: undefined }) }),
  fc.record({ verb: fc.constant('HEARTBEAT' as const), firmware: fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/) }),
  fc.record({ verb: fc.constant('RATING' as const), ticket, level: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ verb: fc.constant('RATE-TIMEOUT' as const), ticket }),
);
const hostMessage = fc.oneof(
  fc.record({ verb: fc.constant('ACK' as const), ok: fc.boolean(), text: fc.option(text, { nil: undefined }) }),
  fc.record({ verb: fc.constant('DISP' as const), line1: text, line2: fc.option(text, { nil: undefined }) }),
  fc.record({ verb: fc.constant('BEEP' as const), count: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ verb: fc.constant('LED' as const), colour: fc.constantFrom('OFF', 'RED', 'GREEN', 'AMBER', 'BLUE'), pattern: fc.constantFrom('ON', 'BLINK', 'FAST') }),
  fc.record({ verb: fc.constant('RATE-REQ' as const), ticket, timeoutSeconds: fc.integer({ min: 0, max: 1000 }) }),
);
const frameArbitrary = fc.oneof(
  fc.record({ direction: fc.constant('to-host' as const), address: fc.integer({ min: 0, max: 255 }), seq: fc.integer({ min: 0, max: 15 }), message: padMessage }),
  fc.record({ direction: fc.constant('to-pad' as const), address: fc.integer({ min: 0, max: 255 }), seq: fc.integer({ min: 0, max: 15 }), message: hostMessage }),
);
/** Several encodable frames with noise between them, lowercase checksums or missing CRs now and then. */
const streamArbitrary = fc
  .array(fc.tuple(frameArbitrary, fc.uint8Array({ maxLength: 6 }), fc.constantFrom('as-is', 'lower', 'lf-only', 'no-lf')), { minLength: 1, maxLength: 4 })
  .map((parts) =>
    Buffer.concat(
      parts.map(([frame, noise, style]) => {
        let bytes: Buffer;
        try {
          bytes = encodeFrame(frame as Frame);
        } catch (err) {
          if (err instanceof CounterPadCodecError) return Buffer.from(noise);
          throw err;
        }
        if (style === 'lower') bytes = Buffer.from(bytes.toString('latin1').replace(/\*([0-9A-F]{2})\r\n$/, (_m, h: string) => `*${h.toLowerCase()}\r\n`), 'latin1');
        if (style === 'lf-only') bytes = Buffer.concat([bytes.subarray(0, -2), Buffer.from('\n')]);
        if (style === 'no-lf') bytes = bytes.subarray(0, -2);
        return Buffer.concat([Buffer.from(noise), bytes]);
      }),
    ),
  );

function checkReencodes(frame: Frame): void {
  let bytes: Buffer;
  try {
    bytes = encodeFrame(frame);
  } catch (err) {
    throw new PropertyViolation(`decoded frame cannot be encoded again: ${(err as Error).message}; frame ${JSON.stringify(frame)}`);
  }
  const again = decodeLine(bytes.subarray(0, -2));
  if (!again.ok || !equalJson(again.frame, frame)) throw new PropertyViolation(`frame ${JSON.stringify(frame)} re-encodes to ${bytes.toString('hex')}, which decodes differently`);
}

const longLived = new SyncLineFramer(new LineFramer());

export const counterPadLines: FuzzTarget<Input> = {
  name: 'counter-pad-lines',
  parser: 'devices/counter-pad codec.ts decodeLine + line framer',
  sources: [
    { name: 'mutated vectors', weight: 4, next: (rng) => ({ bytes: mutateBytes(rng, seeds, { interesting: INTERESTING, maxLength: 600 }), chunk: rng.pick([1, 4, 16, 4096]) }) },
    { name: 'random bytes', weight: 2, next: (rng) => ({ bytes: randomBytes(rng, 300, INTERESTING), chunk: rng.pick([1, 9, 4096]) }) },
    { name: 'structured', weight: 3, next: (() => { const gen = fromArbitrary(streamArbitrary); return (rng) => ({ bytes: gen(rng), chunk: rng.pick([1, 3, 64, 4096]) }); })() },
    // A pad (or noise) that never sends LF: the framer must drop the line at its limit.
    { name: 'endless line', weight: 1, next: (rng) => ({ bytes: Buffer.alloc(FRAMER_LIMIT * (1 + rng.below(8)) + rng.below(3), rng.pick([0x3c, 0x41, 0x0d, 0xa1])), chunk: rng.pick([1, 64, 4096]) }) },
  ],
  run({ bytes, chunk }): Verdict {
    const lines = frameLines(new SyncLineFramer(new LineFramer()), bytes, chunk);
    let accepted = false;
    for (const line of lines) {
      if (line.overflow) {
        if (line.bytes.length > 16) throw new PropertyViolation(`overflow report carries ${line.bytes.length} bytes (at most 16)`);
        continue;
      }
      if (line.bytes.length > FRAMER_LIMIT) throw new PropertyViolation(`framer passed a ${line.bytes.length}-byte line (limit ${FRAMER_LIMIT})`);
      const decoded = decodeLine(line.bytes);
      if (!decoded.ok) continue;
      accepted = true;
      checkReencodes(decoded.frame);
    }
    return accepted ? 'accepted' : 'refused';
  },
  ...chunkedBytesJson,
  stream: {
    feed: (input) => {
      longLived.write(input.bytes);
    },
    buffered: () => longLived.buffered(),
    bound: FRAMER_LIMIT,
  },
};
