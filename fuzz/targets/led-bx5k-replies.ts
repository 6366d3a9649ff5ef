import fc from 'fast-check';
import { asReply, Bx5kDecoder, decodeStatus, encodeFrame, encodePacket, encodeStatus, HOST_ADDRESS, parsePacket, isRejection, unescapePacket, type DecodedFrame } from '../../devices/led-bx5k/codec.js';
import { readVectors } from '../corpus.js';
import { mutateBytes, randomBytes } from '../mutate.js';
import { fromArbitrary } from '../structured.js';
import { chunkedBytesJson, equalJson, type ChunkedBytes, PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * What BX-5K controllers send back on the RS-485 line, through the daemon's streaming decoder
 * (devices/led-bx5k/decoder.ts) and the reply reading (asReply, decodeStatus).
 * Input: bytes as they arrive, and the chunk size the serial port hands them over in.
 */
type Input = ChunkedBytes;

interface Vectors {
  requests: Array<{ frame: string }>;
  replies: Array<{ frame: string }>;
  captures: Array<{ frame: string }>;
}

const vectors = readVectors<Vectors>('led-bx5k');
const seeds = [...vectors.replies, ...vectors.requests, ...vectors.captures].map((v) => Buffer.from(v.frame, 'hex'));
const INTERESTING = [0xa5, 0x5a, 0xa6, 0x5b, 0x01, 0x02, 0x80, 0xa1, 0xa2, 0xa3];
const MAX_FRAME_BYTES = 4096;

const replyArbitrary = fc
  .record({
    source: fc.integer({ min: 0, max: 0xffff }),
    destination: fc.oneof(fc.constant(HOST_ADDRESS), fc.integer({ min: 0, max: 0xffff })),
    group: fc.constantFrom(0xa1, 0xa2, 0xa3, 0x00, 0xff),
    command: fc.constantFrom(0x00, 0x02, 0x06, 0x10, 0xff),
    responseFlag: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 64 }),
    repeat: fc.integer({ min: 1, max: 3 }),
    noise: fc.uint8Array({ maxLength: 16 }),
  })
  .map(({ payload, repeat, noise, ...fields }) => {
    const frame = encodeFrame({ ...fields, payload: Buffer.from(payload) });
    return Buffer.concat([Buffer.from(noise), ...Array.from({ length: repeat }, () => frame)]);
  });

function feed(decoder: Bx5kDecoder, bytes: Buffer, chunk: number): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  for (let at = 0; at < bytes.length; at += chunk) out.push(...decoder.push(bytes.subarray(at, at + chunk)));
  return out;
}

const longLived = new Bx5kDecoder({ maxFrameBytes: MAX_FRAME_BYTES });

export const ledBx5kReplies: FuzzTarget<Input> = {
  name: 'led-bx5k-replies',
  parser: 'devices/led-bx5k decoder.ts + packet.ts + asReply/decodeStatus',
  sources: [
    { name: 'mutated vectors', weight: 4, next: (rng) => ({ bytes: mutateBytes(rng, seeds, { interesting: INTERESTING, maxLength: 600 }), chunk: rng.pick([1, 3, 8, 64, 4096]) }) },
    { name: 'random bytes', weight: 2, next: (rng) => ({ bytes: randomBytes(rng, 300, INTERESTING), chunk: rng.pick([1, 7, 4096]) }) },
    { name: 'structured', weight: 3, next: (() => { const gen = fromArbitrary(replyArbitrary); return (rng) => ({ bytes: gen(rng), chunk: rng.pick([1, 5, 32, 4096]) }); })() },
    // A controller babbling without ever sending the end byte: the frame must be dropped at the limit.
    { name: 'endless frame', weight: 1, next: (rng) => ({ bytes: Buffer.concat([Buffer.of(0xa5, 0x01), Buffer.alloc(MAX_FRAME_BYTES + rng.below(64), rng.pick([0x00, 0x41, 0xff]))]), chunk: rng.pick([64, 4096]) }) },
  ],
  run({ bytes, chunk }): Verdict {
    const decoder = new Bx5kDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    const frames = feed(decoder, bytes, Math.max(1, chunk));
    if (decoder.packets + decoder.rejected !== frames.length) {
      throw new PropertyViolation(`decoder counted ${decoder.packets} packets + ${decoder.rejected} rejections but emitted ${frames.length} frames`);
    }
    // The serial port may cut the stream anywhere: the frames must not depend on where.
    const whole = new Bx5kDecoder({ maxFrameBytes: MAX_FRAME_BYTES }).push(bytes);
    if (!equalJson(whole, frames)) throw new PropertyViolation(`chunks of ${chunk} bytes decode differently from the whole input`);
    let accepted = false;
    for (const frame of frames) {
      if (frame.kind !== 'packet') continue;
      accepted = true;
      const { packet } = frame;
      // Re-encode: the packet's fields make a frame that decodes to the same packet.
      const again = parsePacket(unescapePacket(encodeFrame(packet).subarray(8, -1))!);
      if (isRejection(again) || !equalJson(again, packet)) throw new PropertyViolation(`packet does not survive re-encoding: ${encodePacket(packet).toString('hex')}`);
      const reply = asReply(packet);
      if (reply) {
        const status = decodeStatus(reply.data);
        if (status && !equalJson(decodeStatus(encodeStatus(status)), status)) throw new PropertyViolation('status block does not survive re-encoding');
      }
    }
    return accepted ? 'accepted' : 'refused';
  },
  ...chunkedBytesJson,
  stream: {
    feed: (input) => void longLived.push(input.bytes),
    // The decoder's only buffer is the frame body it is collecting.
    buffered: () => (longLived as unknown as { body: number[] }).body.length,
    bound: MAX_FRAME_BYTES,
  },
};
