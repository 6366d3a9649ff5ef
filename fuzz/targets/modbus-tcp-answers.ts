import { MbapReader, type MbapAnswer } from '../../devices/health-gate/modbus-tcp-codec.js';
import { mutateBytes, randomBytes } from '../mutate.js';
import type { Rng } from '../rng.js';
import { chunkedBytesJson, type ChunkedBytes, PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * Answers from a Modbus TCP gate (devices/health-gate/modbus-tcp-codec.ts MbapReader), fed in
 * chunks as a socket delivers them. Properties: it never throws; every answer it returns is, byte
 * for byte, the next frame of the input (nothing invented, nothing reordered); it never holds
 * more than one frame's worth of bytes; and a stream of well-formed answers comes out whole and
 * the same whatever the chunking.
 */

/** One answer as a gate sends it: header (transaction, protocol 0, length, unit) and PDU. */
function answerBytes(transaction: number, unit: number, pdu: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt16BE(transaction, 0);
  head.writeUInt16BE(pdu.length + 1, 4);
  head[6] = unit;
  return Buffer.concat([head, pdu]);
}

function randomAnswer(rng: Rng): Buffer {
  const fc = rng.pick([0x04, 0x05, 0x06, 0x84, 0x85, 0x86]);
  const pdu =
    fc === 0x04
      ? (() => {
          const words = rng.below(10);
          return Buffer.concat([Buffer.from([fc, words * 2]), rng.bytes(words * 2)]);
        })()
      : fc & 0x80
        ? Buffer.from([fc, 1 + rng.below(4)])
        : Buffer.concat([Buffer.from([fc]), rng.bytes(4)]);
  return answerBytes(rng.below(0x10000), rng.chance(0.9) ? 1 : rng.below(256), pdu);
}

const seeds = [
  answerBytes(1, 1, Buffer.from('04080171000000010007', 'hex')),
  answerBytes(2, 1, Buffer.from('06000a0175', 'hex')),
  answerBytes(3, 1, Buffer.from('8402', 'hex')),
  Buffer.concat([answerBytes(4, 1, Buffer.from('050000ff00', 'hex')), answerBytes(5, 1, Buffer.from('0402016d', 'hex'))]),
];

const MAX_FRAME = 6 + 254;

function read(bytes: Buffer, chunk: number): { answers: MbapAnswer[]; held: number } {
  const reader = new MbapReader();
  const answers: MbapAnswer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) answers.push(...reader.push(bytes.subarray(at, at + chunk)));
  return { answers, held: reader.pending };
}

export const modbusTcpAnswers: FuzzTarget<ChunkedBytes> = {
  name: 'modbus-tcp-answers',
  parser: 'devices/health-gate/modbus-tcp-codec.ts MbapReader (the gate over Modbus TCP)',
  sources: [
    { name: 'mutated answers', weight: 3, next: (rng) => ({ bytes: mutateBytes(rng, seeds, { interesting: [0x00, 0x01, 0x02, 0x06, 0x7f, 0x80, 0x84, 0xff], maxLength: 600 }), chunk: rng.pick([1, 2, 7, 13, 4096]) }) },
    { name: 'random bytes', weight: 1, next: (rng) => ({ bytes: randomBytes(rng, 400, [0x00, 0x01, 0x06]), chunk: rng.pick([1, 7, 4096]) }) },
    { name: 'well-formed streams', weight: 3, next: (rng) => ({ bytes: Buffer.concat(Array.from({ length: 1 + rng.below(6) }, () => randomAnswer(rng))), chunk: rng.pick([1, 2, 3, 7, 8, 13, 4096]) }) },
  ],
  run({ bytes, chunk }): Verdict {
    const { answers, held } = read(bytes, Math.max(1, chunk));
    if (held > MAX_FRAME) throw new PropertyViolation(`holds ${held} bytes, more than one frame (${MAX_FRAME})`);
    let cursor = 0;
    for (const answer of answers) {
      if (!answer.ok) continue;
      const frame = answerBytes(answer.transaction, answer.unit, Buffer.concat([Buffer.from([answer.functionCode]), answer.data]));
      const at = bytes.indexOf(frame, cursor);
      if (at < 0) throw new PropertyViolation(`answer ${frame.toString('hex')} is not in the input after byte ${cursor}`);
      cursor = at + frame.length;
    }
    if (answers.every((a) => a.ok)) {
      // Nothing refused: the stream was well-formed, so the whole input must read the same at once.
      const whole = read(bytes, bytes.length || 1);
      if (JSON.stringify(whole.answers) !== JSON.stringify(answers)) throw new PropertyViolation('a well-formed stream reads differently in chunks');
    }
    return answers.some((a) => a.ok) && answers.every((a) => a.ok) ? 'accepted' : 'refused';
  },
  ...chunkedBytesJson,
};
