/**
 * Modbus TCP as the gate's client speaks it, pure: the MBAP header (transaction id, protocol id 0,
 * length, unit id) around the same three request PDUs the RTU line sends, and a reader that cuts
 * answers out of the byte stream by the header's length. An answer is matched to its request by
 * transaction id, so a late answer to a timed-out request is recognised and dropped.
 */

export type MbapAnswer =
  | { ok: true; transaction: number; unit: number; functionCode: number; data: Buffer }
  /** Bytes that are not a Modbus TCP answer (protocol id not 0, impossible length): the stream is in doubt. */
  | { ok: false; bytes: Buffer };

/** One request: MBAP header, then function code and two big-endian 16-bit fields (address and count or value). */
export function mbapRequest(transaction: number, unit: number, functionCode: number, first: number, second: number): Buffer {
  const frame = Buffer.alloc(12);
  frame.writeUInt16BE(transaction & 0xffff, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(6, 4); // unit id + 5 PDU bytes
  frame[6] = unit;
  frame[7] = functionCode;
  frame.writeUInt16BE(first, 8);
  frame.writeUInt16BE(second, 10);
  return frame;
}

/** The largest MBAP length: unit id + a 253-byte PDU (Modbus application protocol, 4.1). */
const MAX_MBAP_LENGTH = 254;

export class MbapReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** Bytes held of an answer not yet complete (at most one frame's worth). */
  get pending(): number {
    return this.buffer.length;
  }

  /** Drops a partial answer (a new connection starts clean). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  push(chunk: Buffer): MbapAnswer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const answers: MbapAnswer[] = [];
    while (this.buffer.length >= 7) {
      const protocol = this.buffer.readUInt16BE(2);
      const length = this.buffer.readUInt16BE(4);
      if (protocol !== 0 || length < 2 || length > MAX_MBAP_LENGTH) {
        answers.push({ ok: false, bytes: this.buffer });
        this.buffer = Buffer.alloc(0);
        break;
      }
      if (this.buffer.length < 6 + length) break;
      const frame = this.buffer.subarray(0, 6 + length);
      this.buffer = this.buffer.subarray(6 + length);
      answers.push({ ok: true, transaction: frame.readUInt16BE(0), unit: frame[6]!, functionCode: frame[7]!, data: Buffer.from(frame.subarray(8)) });
    }
    return answers;
  }
}
