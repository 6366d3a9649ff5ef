import { SerialPort } from 'serialport';
import iconv from 'iconv-lite';

/**
 * Onbon BX-5K controllers on one RS-485 line, written from firmware-protocols/led-bx5k.md alone:
 * it imports nothing of devices/led-bx5k (not its codec, CRC, escape table, decoder or
 * simulator) nor of src/, so a mistake shared by our codec and our simulator cannot hide here.
 * It opens the far end of a real PTY with the serialport package and answers as the document
 * says a controller does: the frame (A5 preamble, escaped packet, 5A), the little-endian header,
 * data length = 5 + payload, CRC-16/ARC; A3 06 dynamic areas (27-byte area header, GBK text),
 * A3 10 clear, A2 00 ping, A1 02 status; the answer echoes group and command with a status code.
 *
 * Faults, per controller: `busy` answers 0x03 and keeps its text; `corrupt-reply` takes the text
 * and answers ok with a broken CRC (a noisy line on the way back); `silent` hears nothing.
 */
export type Bx5kPeerFault = 'none' | 'busy' | 'corrupt-reply' | 'silent';

const HOST = 0x8000;
const PREAMBLE = 0xa5;
const END = 0x5a;
const HEADER = 19;
/** The document's escape table, read backwards; any other pair spoils the frame. */
const UNESCAPE = new Map([
  [0xa602, 0xa5],
  [0xa601, 0xa6],
  [0x5b02, 0x5a],
  [0x5b01, 0x5b],
]);

interface Controller {
  areas: Map<number, string>;
  fault: Bx5kPeerFault;
  /** Valid frames addressed to it. */
  frames: number;
}

export class Bx5kLinePeer {
  /** Frames that failed a check (escape, length, CRC), and valid frames for nobody here. */
  rejected = 0;
  private readonly controllers = new Map<number, Controller>();
  private frame: number[] | undefined;
  private escape: number | undefined;

  private constructor(
    private readonly port: SerialPort,
    addresses: number[],
  ) {
    for (const address of addresses) this.controllers.set(address, { areas: new Map(), fault: 'none', frames: 0 });
    port.on('data', (chunk: Buffer) => {
      for (const byte of chunk) this.onByte(byte);
    });
  }

  static async open(path: string, baudRate: number, addresses: number[]): Promise<Bx5kLinePeer> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => undefined); // the PTY going away at the end of a test
    return new Bx5kLinePeer(port, addresses);
  }

  /** What a person reads on the screen: areas in id order, \F and \C codes left out, " | " between. */
  textOf(address: number): string {
    const areas = this.controller(address).areas;
    return [...areas.keys()]
      .sort((a, b) => a - b)
      .map((id) => areas.get(id)!.replace(/\\F[A-Z]\d{3}/g, '').replace(/\\C\d/g, ''))
      .join(' | ');
  }

  framesFor(address: number): number {
    return this.controller(address).frames;
  }

  setFault(address: number, fault: Bx5kPeerFault): void {
    this.controller(address).fault = fault;
  }

  close(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }

  private controller(address: number): Controller {
    const controller = this.controllers.get(address);
    if (!controller) throw new Error(`no controller ${address} on this line`);
    return controller;
  }

  // ---- framing: preamble, escapes, end byte ----

  private onByte(byte: number): void {
    if (byte === PREAMBLE) {
      if (this.frame && this.frame.length > 0) this.rejected += 1; // a new frame before the end
      this.frame = [];
      this.escape = undefined;
      return;
    }
    if (!this.frame) return; // noise between frames
    if (byte === END) {
      const packet = this.escape === undefined ? Buffer.from(this.frame) : undefined;
      this.frame = undefined;
      if (packet) this.onPacket(packet);
      else this.rejected += 1;
      return;
    }
    if (this.escape !== undefined) {
      const raw = UNESCAPE.get((this.escape << 8) | byte);
      this.escape = undefined;
      if (raw === undefined) {
        this.frame = undefined;
        this.rejected += 1;
        return;
      }
      this.frame.push(raw);
      return;
    }
    if (byte === 0xa6 || byte === 0x5b) this.escape = byte;
    else this.frame.push(byte);
  }

  // ---- packet: header, length, CRC ----

  private onPacket(packet: Buffer): void {
    if (packet.length < HEADER + 2) return void (this.rejected += 1);
    const dataLength = packet.readUInt16LE(12);
    const payloadLength = dataLength - 5;
    if (payloadLength < 0 || HEADER + payloadLength + 2 !== packet.length) return void (this.rejected += 1);
    const crc = packet.readUInt16LE(HEADER + payloadLength);
    if (crc16arc(packet.subarray(0, HEADER + payloadLength)) !== crc) return void (this.rejected += 1);
    const destination = packet.readUInt16LE(0);
    const controller = this.controllers.get(destination);
    if (!controller) return void (this.rejected += 1);
    controller.frames += 1;
    if (controller.fault === 'silent') return;
    const group = packet[14]!;
    const command = packet[15]!;
    const wantsAnswer = packet[16] === 0x01;
    const payload = packet.subarray(HEADER, HEADER + payloadLength);
    if (controller.fault === 'busy') return this.answer(destination, group, command, wantsAnswer, 0x03);
    let status = 0x00;
    let data = Buffer.alloc(0);
    if (group === 0xa3 && command === 0x06) status = applyAreas(controller, payload);
    else if (group === 0xa3 && command === 0x10) controller.areas.clear();
    else if (group === 0xa1 && command === 0x02) data = Buffer.from([0x0f, 1, controller.areas.size]);
    else if (!(group === 0xa2 && command === 0x00)) status = group === 0xa1 || group === 0xa2 || group === 0xa3 ? 0x02 : 0x01;
    this.answer(destination, group, command, wantsAnswer, status, data, controller.fault === 'corrupt-reply');
  }

  private answer(from: number, group: number, command: number, wanted: boolean, status: number, data = Buffer.alloc(0), corrupt = false): void {
    if (!wanted) return;
    const payload = Buffer.concat([Buffer.from([status]), data]);
    const packet = Buffer.alloc(HEADER + payload.length + 2);
    packet.writeUInt16LE(HOST, 0);
    packet.writeUInt16LE(from, 2);
    packet[10] = 0xfe;
    packet[11] = 0x02;
    packet.writeUInt16LE(5 + payload.length, 12);
    packet[14] = group;
    packet[15] = command;
    packet[16] = 0x02;
    payload.copy(packet, HEADER);
    const crc = crc16arc(packet.subarray(0, HEADER + payload.length));
    packet.writeUInt16LE(corrupt ? crc ^ 0x0101 : crc, HEADER + payload.length);
    const escaped: number[] = [];
    for (const byte of packet) {
      if (byte === 0xa5) escaped.push(0xa6, 0x02);
      else if (byte === 0xa6) escaped.push(0xa6, 0x01);
      else if (byte === 0x5a) escaped.push(0x5b, 0x02);
      else if (byte === 0x5b) escaped.push(0x5b, 0x01);
      else escaped.push(byte);
    }
    this.port.write(Buffer.from([...new Array<number>(8).fill(PREAMBLE), ...escaped, END]));
  }
}

/** A3 06: deleteCount, ids to delete, areaCount, then per area its u16 length and the area. */
function applyAreas(controller: Controller, payload: Buffer): number {
  let at = 0;
  const need = (n: number): boolean => at + n <= payload.length;
  if (!need(1)) return 0x08;
  const deletes = payload[at++]!;
  if (!need(deletes + 1)) return 0x08;
  for (let i = 0; i < deletes; i++) controller.areas.delete(payload[at++]!);
  const count = payload[at++]!;
  const updates: Array<[number, string]> = [];
  for (let i = 0; i < count; i++) {
    if (!need(2)) return 0x08;
    const length = payload.readUInt16LE(at);
    at += 2;
    if (!need(length) || length < 27) return 0x08;
    const area = payload.subarray(at, at + length);
    at += length;
    const textLength = area.readUInt32LE(23);
    if (27 + textLength !== area.length) return 0x08;
    updates.push([area[9]!, iconv.decode(area.subarray(27), 'gbk')]);
  }
  if (at !== payload.length) return 0x08;
  for (const [id, text] of updates) controller.areas.set(id, text);
  return 0x00;
}

/** CRC-16/ARC, bit by bit as the document gives it: reflected 0x8005 (0xA001), init 0, no final XOR. */
export function crc16arc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
