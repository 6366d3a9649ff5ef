import { EventEmitter } from 'node:events';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';
import type { Logger } from '../../src/platform/logger.js';
import { silentLogger } from '../../src/platform/logger.js';
import { decodeLine, encodePadFrame } from './codec.js';
import { LineFramer, type RawLine } from './line-framer.js';
import type { HostFrame, LedColour, LedPattern, PadKey, PadKeyVerb, PadMessage, RatingLevel } from './messages.js';

/**
 * Counter pads as their firmware behaves (firmware-protocols/counter-pad.md), on the device end
 * of a serial line: many addresses share one port, like pads on one RS-485 line. Used by the
 * integration tests and by `hall-edge demo` (with the autopilot).
 */

export interface CounterPadSimulatorOptions {
  /** The device end of the line (a PTY from openPtyPair().b, or a real port). */
  path: string;
  baudRate?: number;
  addresses: number[];
  /** Resend a frame not ACKed within this time (plus 0..50 ms random back-off). */
  ackTimeoutMs?: number;
  maxResends?: number;
  /** Heartbeat period; 0 = only the power-up heartbeat. */
  heartbeatMs?: number;
  firmware?: string;
  /** Multiplies the rating timeout the host asks for (0.05 makes 20 s last 1 s); the demo runs fast. */
  rateTimeoutScale?: number;
  log?: Logger;
}

export interface KeyResult {
  /** False when the host refused (ACK NO) or never answered (`acked` false). */
  ok: boolean;
  acked: boolean;
  text?: string;
  resends: number;
}

export interface PadView {
  address: number;
  display: { line1: string; line2?: string } | undefined;
  /** The last ACK text shown over the display. */
  lastAckText: string | undefined;
  led: { colour: LedColour; pattern: LedPattern } | undefined;
  beeps: number;
  rateRequest: { ticket: string; timeoutSeconds: number } | undefined;
}

export interface CounterPadSimulatorEvents {
  'rate-request': [address: number, ticket: string, timeoutSeconds: number];
  display: [address: number, line1: string, line2: string | undefined];
  /** A frame from the host one of this simulator's pads heard, in line order: ACKs, and the others after de-duplication. */
  'host-frame': [frame: HostFrame];
}

interface Pad extends PadView {
  seq: number;
  lastHostFrame: string | undefined;
  outstanding: { seq: number; resolve: (ack: { ok: boolean; text?: string } | undefined) => void } | undefined;
  chain: Promise<unknown>;
  dropAcks: number;
  rateTimer: NodeJS.Timeout | undefined;
  heartbeatTimer: NodeJS.Timeout | undefined;
}

export interface SimulatorStats {
  framesSent: number;
  resends: number;
  framesHeard: number;
  duplicatesFromHost: number;
  rejectedLines: number;
}

export class CounterPadSimulator extends EventEmitter<CounterPadSimulatorEvents> {
  private port: SerialPort | undefined;
  private readonly pads = new Map<number, Pad>();
  private readonly log: Logger;
  private readonly counters: SimulatorStats = { framesSent: 0, resends: 0, framesHeard: 0, duplicatesFromHost: 0, rejectedLines: 0 };

  constructor(private readonly options: CounterPadSimulatorOptions) {
    super();
    this.log = options.log ?? silentLogger();
    for (const address of options.addresses) {
      this.pads.set(address, {
        address,
        display: undefined,
        lastAckText: undefined,
        led: undefined,
        beeps: 0,
        rateRequest: undefined,
        seq: 0,
        lastHostFrame: undefined,
        outstanding: undefined,
        chain: Promise.resolve(),
        dropAcks: 0,
        rateTimer: undefined,
        heartbeatTimer: undefined,
      });
    }
  }

  get stats(): Readonly<SimulatorStats> {
    return { ...this.counters };
  }

  get addresses(): number[] {
    return [...this.pads.keys()];
  }

  /** Opens the line and powers the pads up (each sends its first HEARTBEAT, not awaited). */
  async start(): Promise<void> {
    const port = createSerialPort({ path: this.options.path, baudRate: this.options.baudRate ?? 19200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', (err) => this.log.warn({ err }, 'counter-pad simulator port error'));
    const framer = new LineFramer();
    port.pipe(framer);
    framer.on('data', (line: RawLine) => this.onLine(line));
    this.port = port;
    for (const pad of this.pads.values()) this.powerUp(pad);
  }

  /** Powers the pads off and closes the line. Outstanding presses resolve as not acknowledged. */
  async stop(): Promise<void> {
    for (const pad of this.pads.values()) {
      clearTimeout(pad.rateTimer);
      clearInterval(pad.heartbeatTimer);
      pad.outstanding?.resolve(undefined);
      pad.outstanding = undefined;
    }
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** A staff key. Resolves with the host's ACK (after resends), or acked:false. */
  press(address: number, key: PadKeyVerb | PadKey): Promise<KeyResult> {
    const message = (typeof key === 'string' ? { verb: key } : key) as PadMessage;
    return this.send(address, message);
  }

  /** The customer presses a rating key for the open prompt. */
  rate(address: number, level: RatingLevel): Promise<KeyResult> {
    const pad = this.pad(address);
    const request = pad.rateRequest;
    if (!request) return Promise.reject(new Error(`pad ${address} has no rating prompt open`));
    this.closePrompt(pad);
    return this.send(address, { verb: 'RATING', ticket: request.ticket, level });
  }

  /** Ends the open prompt now as if its timeout had run out. */
  expireRating(address: number): Promise<KeyResult> {
    const pad = this.pad(address);
    const request = pad.rateRequest;
    if (!request) return Promise.reject(new Error(`pad ${address} has no rating prompt open`));
    this.closePrompt(pad);
    return this.send(address, { verb: 'RATE-TIMEOUT', ticket: request.ticket });
  }

  /** Sends any pad message (heartbeats, or frames a test wants to craft). */
  send(address: number, message: PadMessage): Promise<KeyResult> {
    const pad = this.pad(address);
    // One frame outstanding per pad: the next press waits for the previous ACK (or give-up).
    const result = pad.chain.then(() => this.transmit(pad, message));
    pad.chain = result.catch(() => undefined);
    return result;
  }

  /** Ignore the next n ACKs the host sends this pad: the pad resends, the host must de-duplicate. */
  dropNextAcks(address: number, count: number): void {
    this.pad(address).dropAcks += count;
  }

  /** Puts raw bytes on the line (malformed-frame tests). */
  writeRaw(bytes: Buffer): Promise<void> {
    return this.write(bytes);
  }

  view(address: number): PadView {
    const { display, lastAckText, led, beeps, rateRequest } = this.pad(address);
    return { address, display, lastAckText, led, beeps, rateRequest };
  }

  displayOf(address: number): { line1: string; line2?: string } | undefined {
    return this.pad(address).display;
  }

  private pad(address: number): Pad {
    const pad = this.pads.get(address);
    if (!pad) throw new Error(`no simulated pad at address ${address}`);
    return pad;
  }

  private powerUp(pad: Pad): void {
    const firmware = this.options.firmware ?? 'sim-1.0';
    void this.send(pad.address, { verb: 'HEARTBEAT', firmware });
    const period = this.options.heartbeatMs ?? 0;
    if (period > 0) {
      // Jitter by address so pads on one line never heartbeat in step.
      pad.heartbeatTimer = setInterval(() => void this.send(pad.address, { verb: 'HEARTBEAT', firmware }), period + (pad.address % 16) * 7);
      pad.heartbeatTimer.unref();
    }
  }

  private async transmit(pad: Pad, message: PadMessage): Promise<KeyResult> {
    const seq = pad.seq;
    pad.seq = (pad.seq + 1) % 16;
    const bytes = encodePadFrame(pad.address, seq, message);
    const maxResends = this.options.maxResends ?? 4;
    const ackTimeoutMs = this.options.ackTimeoutMs ?? 150;
    for (let attempt = 0; attempt <= maxResends; attempt += 1) {
      if (!this.port) return { ok: false, acked: false, resends: attempt };
      if (attempt > 0) this.counters.resends += 1;
      const ack = new Promise<{ ok: boolean; text?: string } | undefined>((resolve) => {
        const timer = setTimeout(() => {
          if (pad.outstanding?.seq === seq) pad.outstanding = undefined;
          resolve(undefined);
        }, ackTimeoutMs + Math.random() * 50 * Math.min(attempt, 1));
        pad.outstanding = {
          seq,
          resolve: (result) => {
            clearTimeout(timer);
            resolve(result);
          },
        };
      });
      this.counters.framesSent += 1;
      await this.write(bytes).catch((err: unknown) => this.log.warn({ err }, 'counter-pad simulator write failed'));
      const result = await ack;
      if (!this.port) return { ok: false, acked: false, resends: attempt };
      if (result) {
        pad.lastAckText = result.text;
        return { ok: result.ok, acked: true, ...(result.text !== undefined ? { text: result.text } : {}), resends: attempt };
      }
    }
    pad.lastAckText = '通信故障';
    return { ok: false, acked: false, resends: maxResends };
  }

  private write(bytes: Buffer): Promise<void> {
    // One writer on the line, the port's stream, which keeps frames whole and in order: the
    // simulated pads never collide with each other.
    return new Promise<void>((resolve, reject) => {
      const port = this.port;
      if (!port?.isOpen) return reject(new Error('simulator line is closed'));
      port.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  private onLine(line: RawLine): void {
    if (line.overflow) {
      this.counters.rejectedLines += 1;
      return;
    }
    const decoded = decodeLine(line.bytes);
    if (!decoded.ok) {
      this.counters.rejectedLines += 1;
      return;
    }
    const frame = decoded.frame;
    if (frame.direction !== 'to-pad') return; // another pad talking
    const pad = this.pads.get(frame.address);
    if (!pad) return;
    this.counters.framesHeard += 1;
    if (frame.message.verb === 'ACK') {
      this.emit('host-frame', frame);
      const outstanding = pad.outstanding;
      if (!outstanding || outstanding.seq !== frame.seq) return; // late ACK of an abandoned frame
      if (pad.dropAcks > 0) {
        pad.dropAcks -= 1;
        return;
      }
      pad.outstanding = undefined;
      outstanding.resolve(frame.message.text === undefined ? { ok: frame.message.ok } : { ok: frame.message.ok, text: frame.message.text });
      return;
    }
    const key = line.bytes.toString('latin1');
    const duplicate = pad.lastHostFrame === key;
    pad.lastHostFrame = key;
    void this.write(Buffer.from(encodeAck(pad.address, frame.seq))).catch(() => undefined);
    if (duplicate) {
      this.counters.duplicatesFromHost += 1;
      return;
    }
    this.apply(pad, frame);
    this.emit('host-frame', frame);
  }

  private apply(pad: Pad, frame: HostFrame): void {
    const message = frame.message;
    switch (message.verb) {
      case 'DISP':
        pad.display = message.line2 === undefined ? { line1: message.line1 } : { line1: message.line1, line2: message.line2 };
        this.emit('display', pad.address, message.line1, message.line2);
        return;
      case 'BEEP':
        pad.beeps += message.count;
        return;
      case 'LED':
        pad.led = { colour: message.colour, pattern: message.pattern };
        return;
      case 'RATE-REQ': {
        if (pad.rateRequest?.ticket === message.ticket) return; // the host resent its prompt after a reconnect
        this.closePrompt(pad);
        pad.rateRequest = { ticket: message.ticket, timeoutSeconds: message.timeoutSeconds };
        const ms = message.timeoutSeconds * 1000 * (this.options.rateTimeoutScale ?? 1);
        pad.rateTimer = setTimeout(() => void this.expireRating(pad.address).catch(() => undefined), ms);
        this.emit('rate-request', pad.address, message.ticket, message.timeoutSeconds);
        return;
      }
      case 'ACK':
        return;
    }
  }

  private closePrompt(pad: Pad): void {
    clearTimeout(pad.rateTimer);
    pad.rateTimer = undefined;
    pad.rateRequest = undefined;
  }
}

function encodeAck(address: number, seq: number): Buffer {
  return encodePadFrame(address, seq, { verb: 'ACK' });
}
