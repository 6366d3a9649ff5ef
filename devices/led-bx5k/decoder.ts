import { Transform, type TransformCallback } from 'node:stream';
import { END_BYTE, PREAMBLE_BYTE, unescapePacket } from './escape.js';
import { isRejection, parsePacket, type Bx5kPacket, type PacketProblem } from './packet.js';

/**
 * Streaming BX-5K frame decoder. Hunts for the A5 preamble, collects to the 5A end byte,
 * unescapes and checks the packet. Garbage, broken escapes, bad lengths and bad CRCs become
 * counted rejections; nothing throws, and memory is bounded by maxFrameBytes.
 *
 * A raw A5 can never occur inside an escaped packet, so an A5 after packet bytes means the
 * previous frame was cut off (a device reset mid-frame) and a new one starts.
 */

export type RejectionReason = PacketProblem | 'bad-escape' | 'truncated' | 'too-long' | 'garbage';

export type DecodedFrame =
  | { kind: 'packet'; packet: Bx5kPacket }
  | { kind: 'rejected'; reason: RejectionReason; claimedSource?: number; bytes: number };

export interface DecoderOptions {
  /** Escaped bytes between preamble and end beyond which a frame is dropped. */
  maxFrameBytes?: number;
}

type State = 'hunt' | 'preamble' | 'body';

export class Bx5kDecoder {
  private state: State = 'hunt';
  private body: number[] = [];
  private garbage = 0;
  private readonly maxFrameBytes: number;
  readonly rejections: Record<RejectionReason, number> = {
    'too-short': 0,
    'length-mismatch': 0,
    crc: 0,
    'bad-escape': 0,
    truncated: 0,
    'too-long': 0,
    garbage: 0,
  };
  packets = 0;

  constructor(options: DecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 4096;
  }

  get rejected(): number {
    return Object.values(this.rejections).reduce((sum, n) => sum + n, 0);
  }

  /** Feeds a chunk; returns the frames (and rejections) it completed. */
  push(chunk: Uint8Array): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    for (const byte of chunk) this.step(byte, out);
    return out;
  }

  private step(byte: number, out: DecodedFrame[]): void {
    switch (this.state) {
      case 'hunt':
        if (byte === PREAMBLE_BYTE) {
          this.flushGarbage(out);
          this.state = 'preamble';
        } else {
          this.garbage += 1;
        }
        return;
      case 'preamble':
        if (byte === PREAMBLE_BYTE) return;
        if (byte === END_BYTE) {
          // A5 ... 5A with nothing between: an empty frame.
          this.reject(out, 'too-short', 1);
          this.state = 'hunt';
          return;
        }
        this.state = 'body';
        this.body = [byte];
        return;
      case 'body':
        if (byte === END_BYTE) {
          this.finish(out);
          this.state = 'hunt';
        } else if (byte === PREAMBLE_BYTE) {
          this.reject(out, 'truncated', this.body.length);
          this.body = [];
          this.state = 'preamble';
        } else if (this.body.length >= this.maxFrameBytes) {
          this.reject(out, 'too-long', this.body.length);
          this.body = [];
          this.state = 'hunt';
        } else {
          this.body.push(byte);
        }
        return;
    }
  }

  private finish(out: DecodedFrame[]): void {
    const escaped = Buffer.from(this.body);
    this.body = [];
    const packet = unescapePacket(escaped);
    if (!packet) return this.reject(out, 'bad-escape', escaped.length);
    const result = parsePacket(packet);
    if (isRejection(result)) return this.reject(out, result.problem, escaped.length, result.claimedSource);
    this.packets += 1;
    out.push({ kind: 'packet', packet: result });
  }

  private flushGarbage(out: DecodedFrame[]): void {
    if (this.garbage === 0) return;
    const bytes = this.garbage;
    this.garbage = 0;
    this.reject(out, 'garbage', bytes);
  }

  private reject(out: DecodedFrame[], reason: RejectionReason, bytes: number, claimedSource?: number): void {
    this.rejections[reason] += 1;
    out.push(claimedSource === undefined ? { kind: 'rejected', reason, bytes } : { kind: 'rejected', reason, bytes, claimedSource });
  }
}

/** The decoder as a stream piece for SerialLink's `framer`: object-mode output of DecodedFrame. */
export class Bx5kFramer extends Transform {
  readonly decoder: Bx5kDecoder;

  constructor(options: DecoderOptions = {}) {
    super({ readableObjectMode: true });
    this.decoder = new Bx5kDecoder(options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const frame of this.decoder.push(chunk)) this.push(frame);
    callback();
  }
}
