import { Transform, type TransformCallback } from 'node:stream';

/**
 * Modbus RTU as the gate's master speaks it, pure: request frames for the three functions the
 * driver uses (04 read input registers, 05 write single coil, 06 write single register) and a
 * framer for the slave's answers. Framing is by function code, not by the 3.5-character silence
 * of the spec: a PTY or a USB adapter delivers bytes in chunks whose gaps say nothing.
 */

export const FC_READ_INPUT_REGISTERS = 0x04;
export const FC_WRITE_SINGLE_COIL = 0x05;
export const FC_WRITE_SINGLE_REGISTER = 0x06;

/** One answer as framed: its CRC checked, the PDU (function code and data) split off. */
export type RtuAnswer =
  | { crcOk: true; unit: number; functionCode: number; data: Buffer }
  | { crcOk: false; bytes: Buffer };

/** CRC-16/MODBUS: reflected 0x8005 (0xA001), init 0xFFFF; sent low byte first. */
export function crc16modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function withCrc(body: Buffer): Buffer {
  const frame = Buffer.alloc(body.length + 2);
  body.copy(frame);
  frame.writeUInt16LE(crc16modbus(body), body.length);
  return frame;
}

/** unit, function, then two big-endian 16-bit fields (address and count or value). */
export function rtuRequest(unit: number, functionCode: number, first: number, second: number): Buffer {
  const body = Buffer.alloc(6);
  body[0] = unit;
  body[1] = functionCode;
  body.writeUInt16BE(first, 2);
  body.writeUInt16BE(second, 4);
  return withCrc(body);
}

export const readInputRegistersRequest = (unit: number, address: number, count: number): Buffer => rtuRequest(unit, FC_READ_INPUT_REGISTERS, address, count);
export const writeCoilRequest = (unit: number, address: number, on: boolean): Buffer => rtuRequest(unit, FC_WRITE_SINGLE_COIL, address, on ? 0xff00 : 0x0000);
export const writeRegisterRequest = (unit: number, address: number, value: number): Buffer => rtuRequest(unit, FC_WRITE_SINGLE_REGISTER, address, value);

/** How long an answer is once its first three bytes are known; undefined for a function we never ask. */
function answerLength(head: Buffer): number | undefined {
  const functionCode = head[1]!;
  if (functionCode & 0x80) return 5; // unit, fc|0x80, exception code, CRC
  if (functionCode >= 1 && functionCode <= 4) return 3 + head[2]! + 2; // unit, fc, byte count, data, CRC
  if (functionCode === 5 || functionCode === 6 || functionCode === 15 || functionCode === 16) return 8; // echo
  return undefined;
}

/**
 * Answers out of the byte stream, one object per answer. A frame that fails its CRC (or names a
 * function we never ask) is passed on as `crcOk: false` and everything buffered is dropped: the
 * master asks one thing at a time, so the next request starts clean. reset() drops a partial
 * answer (after a timeout, its late rest must not glue onto the next answer).
 */
export class RtuAnswerFramer extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor() {
    super({ readableObjectMode: true });
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 3) {
      const length = answerLength(this.pending);
      if (length === undefined) {
        this.push({ crcOk: false, bytes: this.pending } satisfies RtuAnswer);
        this.pending = Buffer.alloc(0);
        break;
      }
      if (this.pending.length < length) break;
      const frame = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      if (crc16modbus(frame.subarray(0, length - 2)) !== frame.readUInt16LE(length - 2)) {
        this.push({ crcOk: false, bytes: Buffer.from(frame) } satisfies RtuAnswer);
        this.pending = Buffer.alloc(0);
        break;
      }
      this.push({ crcOk: true, unit: frame[0]!, functionCode: frame[1]!, data: Buffer.from(frame.subarray(2, length - 2)) } satisfies RtuAnswer);
    }
    callback();
  }
}
