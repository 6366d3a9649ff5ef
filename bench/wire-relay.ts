import { openPtyPair, type PtyPair } from '../src/platform/pty-pair.js';
import { createSerialPort, type SerialPort } from '../src/platform/serial/serial-port.js';

/**
 * A serial line with the wire's timing put back. PTYs move bytes at memory speed; an RS-485 line
 * moves one byte per 10 bit times (start, 8 data, stop) and, being half-duplex, needs a
 * turnaround gap whenever the other end starts talking. The relay sits between two PTY pairs
 * (host ⇄ relay ⇄ device) and hands each chunk on at the moment its last byte would have
 * arrived over a real line of `baud`, one chunk after another on one shared wire.
 *
 * The model's times are exact; the hand-over itself is a timer, so it can be a timer tick late.
 * `lastDownEnd` says when the latest chunk towards the device was fully on the wire (model time),
 * which the bench uses for "frame fully on the display wire".
 */
export interface WireLine {
  /** The end the daemon opens. */
  host: string;
  /** The end the simulated device opens. */
  device: string;
  baud: number;
  /** performance.now() at which the last chunk towards the device was fully on the wire. */
  readonly lastDownEnd: number;
  /** Time the wire was occupied (bytes + turnarounds) within [from, to], ms. */
  busyWithin(from: number, to: number): number;
  /** The occupied intervals (wire model time) that end after `from`, for a timeline. */
  intervals(from: number): Array<[number, number]>;
  /** performance.now() at which the wire falls (or fell) silent: the end of the last chunk carried. */
  readonly freeAt: number;
  /** Forgets the occupied intervals before `before` (long runs). */
  forget(before: number): void;
  close(): Promise<void>;
}

export interface WireLineOptions {
  baud: number;
  /** Gap when the direction changes (a driver's enable line settling, the other end's reply delay). */
  turnaroundMs?: number;
}

/** Bit times per byte on the line: start bit, 8 data bits, stop bit. */
export const BITS_PER_BYTE = 10;

/** Wire time of one delivered slice of a chunk (see carry). */
const SLICE_MS = 2;

export function wireMs(bytes: number, baud: number): number {
  return (bytes * BITS_PER_BYTE * 1000) / baud;
}

export async function openWireLine(options: WireLineOptions): Promise<WireLine> {
  const turnaround = options.turnaroundMs ?? 1;
  const hostSide: PtyPair = await openPtyPair();
  const deviceSide: PtyPair = await openPtyPair();
  const open = (path: string) =>
    new Promise<SerialPort>((resolve, reject) => {
      const port = createSerialPort({ path, baudRate: options.baud }, (err) => (err ? reject(err) : resolve(port)));
    });
  const towardsHost = await open(hostSide.b);
  const towardsDevice = await open(deviceSide.a);

  let wireFreeAt = 0;
  let lastDirection: 'down' | 'up' | undefined;
  let lastDownEnd = 0;
  const occupied: Array<[number, number]> = [];
  // Pieces in wire order (their end times only grow: one wire). Handed on by ONE timer, head
  // first: a timer per piece could fire out of order (Node keeps timers per whole-millisecond
  // list, so a short last piece of one chunk and the first piece of the next, less than 1 ms
  // apart, swapped places and garbled both frames).
  const due: Array<{ at: number; piece: Buffer; direction: 'down' | 'up'; to: SerialPort }> = [];
  let timer: NodeJS.Timeout | undefined;
  const handOn = (): void => {
    timer = undefined;
    const now = performance.now();
    while (due.length > 0 && due[0]!.at <= now) {
      const { at, piece, direction, to } = due.shift()!;
      if (direction === 'down') lastDownEnd = at;
      to.write(piece);
    }
    if (due.length > 0) timer = setTimeout(handOn, Math.max(0, due[0]!.at - now));
  };

  const carry = (chunk: Buffer, direction: 'down' | 'up', to: SerialPort) => {
    const now = performance.now();
    const gap = lastDirection !== undefined && lastDirection !== direction ? turnaround : 0;
    const start = Math.max(now, wireFreeAt + gap);
    const end = start + wireMs(chunk.length, options.baud);
    // The turnaround counts only where it held the wire up (not after a long idle).
    occupied.push([Math.max(start - gap, Math.min(wireFreeAt, start)), end]);
    wireFreeAt = end;
    lastDirection = direction;
    // A UART hands bytes on as they arrive, not when a whole burst of frames is through: a chunk
    // (the PTY may carry 16 key frames, or 32 LED frames, in one read) is delivered in slices of
    // about SLICE_MS of wire time, each when its last byte would have arrived.
    const slice = Math.max(1, Math.floor((SLICE_MS * options.baud) / (BITS_PER_BYTE * 1000)));
    for (let from = 0; from < chunk.length; from += slice) {
      const piece = chunk.subarray(from, Math.min(chunk.length, from + slice));
      due.push({ at: start + wireMs(from + piece.length, options.baud), piece, direction, to });
    }
    if (!timer) timer = setTimeout(handOn, Math.max(0, due[0]!.at - now));
  };
  towardsHost.on('data', (chunk: Buffer) => carry(chunk, 'down', towardsDevice));
  towardsDevice.on('data', (chunk: Buffer) => carry(chunk, 'up', towardsHost));

  const closePort = (port: SerialPort) => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  return {
    host: hostSide.a,
    device: deviceSide.b,
    baud: options.baud,
    get lastDownEnd() {
      return lastDownEnd;
    },
    get freeAt() {
      return wireFreeAt;
    },
    busyWithin(from, to) {
      let busy = 0;
      for (const [start, end] of occupied) busy += Math.max(0, Math.min(end, to) - Math.max(start, from));
      return busy;
    },
    intervals(from) {
      return occupied.filter(([, end]) => end > from);
    },
    forget(before) {
      while (occupied.length > 0 && occupied[0]![1] < before) occupied.shift();
    },
    async close() {
      if (timer) clearTimeout(timer);
      due.length = 0;
      await closePort(towardsHost);
      await closePort(towardsDevice);
      await hostSide.close();
      await deviceSide.close();
    },
  };
}
