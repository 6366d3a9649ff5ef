import { EventEmitter } from 'node:events';
import { ReconnectingLink, type LinkCloseReason, type LinkTransport, type ReconnectStats } from '../link/reconnecting-link.js';
import type { Transform } from 'node:stream';
import { realpath } from 'node:fs/promises';
import { createSerialPort, type SerialPort } from './serial-port.js';
import type { Logger } from '../logger.js';

/**
 * One physical serial port that stays connected by itself, on the shared reconnect lifecycle
 * (src/platform/link/reconnecting-link.ts: back-off, presence watch, reopen). A port that fails
 * (USB adapter unplugged, PTY gone) is thrown away and a *new* SerialPort object is opened:
 * node-serialport ports are not meant to be reopened after a disconnect, and a fresh object also
 * gets a fresh framer, so half a frame from before the unplug cannot glue onto the next one.
 */

export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 1.5 | 2;
  parity?: SerialParity;
  log: Logger;
  /**
   * Makes one protocol framer per connection (a Transform whose output objects are emitted as
   * 'frame'). A new one is made on every open so no partial frame survives a reconnect.
   */
  framer?: () => Transform;
  /** First retry delay after a failure; doubles up to maxBackoffMs (the shared BackoffPolicy). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How often to check that the device node still exists (and is the same device). Needed
   * because a tty that hangs up between two reads makes @serialport/bindings-cpp spin on
   * zero-byte reads forever instead of reporting a disconnect; the check closes such a port.
   * 0 disables it.
   */
  presenceCheckMs?: number;
}

/** Why the port closed (the shared lifecycle's reasons: `renewed` when a user gave the port up to start afresh). */
export type SerialCloseReason = LinkCloseReason;

export interface SerialLinkEvents<Frame> {
  open: [];
  close: [reason: SerialCloseReason, error?: Error];
  data: [chunk: Buffer];
  frame: [frame: Frame];
  /** An open attempt failed; another follows after `retryInMs`. */
  'open-failed': [error: Error, retryInMs: number];
}

export interface SerialLinkStats extends ReconnectStats {
  bytesIn: number;
  bytesOut: number;
  framerErrors: number;
}

export class SerialLinkClosedError extends Error {
  constructor(readonly path: string) {
    super(`serial port ${path} is not open`);
    this.name = 'SerialLinkClosedError';
  }
}

/** One open port and the framer made for it. */
interface OpenPort {
  port: SerialPort;
  framer: Transform | undefined;
  /** The device node the path pointed at when opened (the presence watch compares against it). */
  device: Promise<string | undefined>;
}

export class SerialLink<Frame = Buffer> extends EventEmitter<SerialLinkEvents<Frame>> {
  private readonly lifecycle: ReconnectingLink<OpenPort>;
  private readonly counters = { bytesIn: 0, bytesOut: 0, framerErrors: 0 };

  constructor(private readonly options: SerialLinkOptions) {
    super();
    this.lifecycle = new ReconnectingLink(new SerialTransport(options, this.counters, (frame: Frame) => this.emit('frame', frame), (chunk) => this.emit('data', chunk)), {
      log: options.log,
      ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
    this.lifecycle.on('open', () => {
      this.options.log.info({ port: this.options.path, baudRate: this.options.baudRate }, 'serial port open');
      this.emit('open');
    });
    this.lifecycle.on('close', (reason, err) => this.emit('close', reason, err));
    this.lifecycle.on('open-failed', (err, retryInMs) => this.emit('open-failed', err, retryInMs));
  }

  get path(): string {
    return this.options.path;
  }

  get baudRate(): number {
    return this.options.baudRate;
  }

  get isOpen(): boolean {
    return this.lifecycle.isOpen;
  }

  get stats(): Readonly<SerialLinkStats> {
    return { ...this.lifecycle.stats, ...this.counters };
  }

  /** Begin connecting (and keep reconnecting until close()). Returns at once. */
  start(): void {
    this.lifecycle.start();
  }

  /** Resolves when the port is open (at once if it already is); rejects after timeoutMs. */
  async whenOpen(timeoutMs = 5000): Promise<void> {
    try {
      await this.lifecycle.whenOpen(timeoutMs);
    } catch {
      throw new Error(`serial port ${this.options.path} did not open within ${timeoutMs} ms`);
    }
  }

  /**
   * Hands the bytes to the kernel's tty buffer, in order with every earlier write; resolves once
   * they are there (not once they have left the UART: see drain()). Rejects when not open.
   */
  write(bytes: Buffer): Promise<void> {
    const port = this.lifecycle.connection?.port;
    if (!port) return Promise.reject(new SerialLinkClosedError(this.options.path));
    return new Promise((resolve, reject) => {
      port.write(bytes, (writeErr) => {
        if (writeErr) return reject(writeErr);
        this.counters.bytesOut += bytes.length;
        resolve();
      });
    });
  }

  /**
   * Waits until everything written has left the UART (tcdrain). Costs a thread-pool round trip,
   * so only callers that must know the wire is quiet (a bus turnaround after a frame that gets
   * no reply) use it; a reply-bearing exchange knows from the reply.
   */
  drain(): Promise<void> {
    const port = this.lifecycle.connection?.port;
    if (!port) return Promise.reject(new SerialLinkClosedError(this.options.path));
    return new Promise((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
  }

  /** Gives the port up and reopens it after the back-off (a device whose stream is in doubt). */
  renew(why: string): void {
    this.lifecycle.renew(why);
  }

  /** Stops reconnecting and closes the port. */
  close(): Promise<void> {
    return this.lifecycle.stop();
  }
}

/** Serial ports for the shared lifecycle: open a fresh SerialPort with a fresh framer, watch the node. */
class SerialTransport<Frame> implements LinkTransport<OpenPort> {
  readonly watchEveryMs: number;

  constructor(
    private readonly options: SerialLinkOptions,
    private readonly counters: { bytesIn: number; framerErrors: number },
    private readonly onFrame: (frame: Frame) => void,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    // Needed because a tty that hangs up between two reads makes @serialport/bindings-cpp spin on
    // zero-byte reads forever instead of reporting a disconnect; the watch closes such a port.
    this.watchEveryMs = options.presenceCheckMs ?? 1000;
  }

  get describe(): string {
    return this.options.path;
  }

  open(lost: (reason: 'disconnected' | 'error', err?: Error) => void): Promise<OpenPort> {
    const { path, baudRate, dataBits = 8, stopBits = 1, parity = 'none' } = this.options;
    const port = createSerialPort({ path, baudRate, dataBits, stopBits, parity, autoOpen: false });
    port.on('error', (err) => {
      // 'error' without 'close' (a failed write, say): log; a disconnect also emits 'close'.
      this.options.log.warn({ err, port: path }, 'serial port error');
    });
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => lost(err?.disconnected ? 'disconnected' : 'error', err ?? undefined));
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) {
          this.quieten(port);
          return reject(err);
        }
        resolve({ port, framer: this.attachFramer(port), device: realpath(path).catch(() => undefined) });
      });
    });
  }

  private attachFramer(port: SerialPort): Transform | undefined {
    port.on('data', (chunk: Buffer) => {
      this.counters.bytesIn += chunk.length;
      this.onData(chunk);
    });
    if (!this.options.framer) return undefined;
    const framer = this.options.framer();
    framer.on('data', (frame: Frame) => this.onFrame(frame));
    framer.on('error', (err) => {
      // A framer must not throw, but if it does the link stays up; the next open gets a new one.
      this.counters.framerErrors += 1;
      this.options.log.error({ err, port: this.options.path }, 'serial framer failed');
    });
    port.on('data', (chunk: Buffer) => framer.write(chunk));
    return framer;
  }

  async stillThere({ device }: OpenPort): Promise<boolean> {
    const [expected, actual] = await Promise.all([device, realpath(this.options.path).catch(() => undefined)]);
    return actual !== undefined && actual === expected;
  }

  detach({ port, framer }: OpenPort): void {
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    framer?.removeAllListeners('data');
    framer?.destroy();
    this.quieten(port);
  }

  async close({ port }: OpenPort): Promise<void> {
    if (!port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Keep an 'error' listener: a late error from a discarded port must not crash the process. */
  private quieten(port: SerialPort): void {
    port.removeAllListeners('error');
    port.on('error', () => undefined);
  }
}
