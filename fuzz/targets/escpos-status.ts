import { decodeStatus, encodeStatus, gsrPaperOut, StatusDecodeError, type StatusBytes } from '../../devices/ticket-printer/escpos-status.js';
import { readVectors } from '../corpus.js';
import { mutateBytes, randomBytes } from '../mutate.js';
import { equalJson, PropertyViolation, bytesJson, type FuzzTarget, type Verdict } from '../target.js';

/**
 * The printer's status answers: four bytes for DLE EOT 1..4 (TicketPrinter.status()) and the one
 * byte of GS r 1 after a job. The reply may come short (a timeout cut it) or be line noise.
 */
interface Vectors {
  status: Array<{ answers: string[] }>;
  malformedStatus: Array<{ answers: string[] }>;
}

const vectors = readVectors<Vectors>('escpos');
const seeds = [...vectors.status, ...vectors.malformedStatus].map((v) => Buffer.from(v.answers.join(''), 'hex'));

export const escposStatus: FuzzTarget<Buffer> = {
  name: 'escpos-status',
  parser: 'devices/ticket-printer/escpos-status.ts decodeStatus (DLE EOT) + gsrPaperOut (GS r)',
  sources: [
    { name: 'mutated vectors', weight: 3, next: (rng) => mutateBytes(rng, seeds, { interesting: [0x12, 0x16, 0x1a, 0x1e, 0x32, 0x52, 0x72, 0x7e, 0x0c, 0x60], maxLength: 8 }) },
    { name: 'random bytes', weight: 3, next: (rng) => randomBytes(rng, 6) },
    // Every byte with the fixed bits right: the whole space of valid answers, explored densely.
    { name: 'structured', weight: 3, next: (rng) => Buffer.from(Array.from({ length: 5 }, () => (rng.below(256) & 0b0110_1100) | 0b0001_0010)) },
  ],
  run(reply): Verdict {
    if (reply.length >= 5) gsrPaperOut(reply[4]!);
    // As TicketPrinter.status() reads it: missing bytes arrive as undefined.
    const bytes: StatusBytes = { printer: reply[0]!, offlineCause: reply[1]!, errorCause: reply[2]!, paperSensor: reply[3]! };
    let status;
    try {
      status = decodeStatus(bytes);
    } catch (err) {
      if (err instanceof StatusDecodeError) return 'refused';
      throw err;
    }
    const again = decodeStatus(encodeStatus(status));
    // The encoder (the simulator's) sets the near-end bits along with paper-out, as a printer with
    // a near-end sensor does; a printer without one reports paper-out alone. Both mean paper-out.
    const expected = status.paperOut ? { ...status, paperNearEnd: true } : status;
    if (!equalJson(again, expected)) throw new PropertyViolation(`status ${JSON.stringify(status)} re-encodes to ${JSON.stringify(again)}`);
    return 'accepted';
  },
  ...bytesJson,
};
