import fc from 'fast-check';
import { idChecksumValid, MAX_READER_LINE_BYTES, parseReaderLine } from '../../devices/dispenser/reader-line.js';
import { readVectors } from '../corpus.js';
import { frameLines, SyncLineFramer } from '../framer-adapter.js';
import { mutateBytes, randomBytes } from '../mutate.js';
import { fromArbitrary } from '../structured.js';
import { bytesJson, equalJson, PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * Lines from the dispenser's appointment reader: bytes → the bounded framer → latin1 (as
 * devices/dispenser/driver.ts reads them) → parseReaderLine. An accepted input, written back as
 * `CODE:<value>` / `ID:<value>`, parses to the same input.
 */
interface Vectors {
  lines: Array<{ line: string }>;
}

const vectors = readVectors<Vectors>('appointment-reader');
const seeds = vectors.lines.map((l) => Buffer.from(l.line, 'latin1'));
// The dispenser driver's framer limit for the reader port.
const FRAMER_LIMIT = MAX_READER_LINE_BYTES;

function withCheckDigit(first17: string): string {
  for (const check of '0123456789X') if (idChecksumValid(first17 + check)) return first17 + check;
  return `${first17}0`;
}

const lineArbitrary = fc.oneof(
  fc.tuple(fc.constantFrom('CODE:', 'code:', 'Code: ', '', 'C0DE:', ':', 'ID:'), fc.stringMatching(/^[A-Za-z0-9-]{0,40}$/)).map(([p, v]) => p + v),
  fc.tuple(fc.constantFrom('ID:', 'id:', '', ' ID : '), fc.stringMatching(/^\d{17}$/), fc.boolean()).map(([p, digits, good]) => p + (good ? withCheckDigit(digits) : `${digits}${'0123456789X'[digits.length % 11]}`)),
  fc.string({ maxLength: 70 }),
);

export const appointmentReader: FuzzTarget<Buffer> = {
  name: 'appointment-reader',
  parser: 'devices/dispenser/reader-line.ts parseReaderLine + line framer',
  sources: [
    { name: 'mutated vectors', weight: 3, next: (rng) => mutateBytes(rng, seeds, { interesting: [0x3a, 0x2d, 0x58, 0x30, 0x39, 0x0d, 0x0a, 0x20, 0x09], maxLength: 200 }) },
    { name: 'random bytes', weight: 2, next: (rng) => randomBytes(rng, 100, [0x3a, 0x0a, 0x0d, 0x30, 0x41]) },
    { name: 'structured', weight: 3, next: (() => { const gen = fromArbitrary(lineArbitrary); return (rng) => Buffer.from(gen(rng), 'latin1'); })() },
  ],
  run(bytes): Verdict {
    const lines = frameLines(new SyncLineFramer(FRAMER_LIMIT), Buffer.concat([bytes, Buffer.from('\r\n')]), 4096);
    let accepted = false;
    for (const line of lines) {
      if (line.overflow) continue;
      const result = parseReaderLine(line.bytes.toString('latin1'));
      if (!result.ok) continue;
      accepted = true;
      const again = parseReaderLine(`${result.input.kind === 'id' ? 'ID' : 'CODE'}:${result.input.value}`);
      if (!again.ok || !equalJson(again.input, result.input)) throw new PropertyViolation(`${JSON.stringify(result.input)} does not survive writing back`);
    }
    return accepted ? 'accepted' : 'refused';
  },
  ...bytesJson,
};
