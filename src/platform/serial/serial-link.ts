import { EventEmitter } from 'node:events';
import type { Transform } from 'node:stream';
import { realpath } from 'node:fs/promises';
import { createSerialPort, type SerialPort } from './serial-port.js';
import type { Logger } from '../logger.js';

/**
 * One physical serial port that stays connected by itself. A port that fails (USB adapter
 * unplugged, PTY gone) is thrown away and a *new* SerialPort object is created after a backoff:
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
  /** First retry delay after a failure; doubles up to maxBackoffMs. */
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

export type SerialCloseReason = 'disconnected' | 'error' | 'closed-by-us';

export interface SerialLinkEvents<Frame> {
  open: [];
  close: [reason: SerialCloseReason, error?: Error];
  data: [chunk: Buffer];
  frame: [frame: Frame];
  /** An open attempt failed; another follows after `retryInMs`. */
  'open-failed': [error: Error, retryInMs: number];
}

export interface SerialLinkStats {
  opens: number;
  openFailures: number;
  disconnects: number;
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

export class SerialLink<Frame = Buffer> extends EventEmitter<SerialLinkEvents<Frame>> {
  private port: SerialPort | undefined;
  private framer: Transform | undefined;
  private open = false;
  private stopped = true;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private vanished = false;
  private readonly counters: SerialLinkStats = {
    opens: 0,
    openFailures: 0,
    disconnects: 0,
    bytesIn: 0,
    bytesOut: 0,
    framerErrors: 0,
  };

  constructor(private readonly options: SerialLinkOptions) {
    super();
    this.backoffMs = options.minBackoffMs ?? 200;
  }

  get path(): string {
    return this.options.path;
  }

  get baudRate(): number {
    return this.options.baudRate;
  }

  get isOpen(): boolean {
    return this.open;
  }

  get stats(): Readonly<SerialLinkStats> {
    return { ...this.counters };
  }

  /** Begin connecting (and keep reconnecting until close()). Returns at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Resolves when the port is open (at once if it already is); rejects after timeoutMs. */
  whenOpen(timeoutMs = 5000): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onOpen = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('open', onOpen);
        reject(new Error(`serial port ${this.options.path} did not open within ${timeoutMs} ms`));
      }, timeoutMs);
      this.once('open', onOpen);
    });
  }

  /**
   * Hands the bytes to the kernel's tty buffer, in order with every earlier write; resolves once
   * they are there (not once they have left the UART: see drain()). Rejects when not open.
   */
  write(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!this.open || !port) return Promise.reject(new SerialLinkClosedError(this.options.path));
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
    const port = this.port;
    if (!this.open || !port) return Promise.reject(new SerialLinkClosedError(this.options.path));
    return new Promise((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
  }

  /** Stops reconnecting and closes the port. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const port = this.port;
    if (!port) return;
    if (port.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    } else {
      this.discard(port);
    }
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const { path, baudRate, dataBits = 8, stopBits = 1, parity = 'none' } = this.options;
    const port = createSerialPort({ path, baudRate, dataBits, stopBits, parity, autoOpen: false });
    this.port = port;
    port.on('error', (err) => {
      // 'error' without 'close' (a failed write, say): log; a disconnect also emits 'close'.
      this.options.log.warn({ err, port: path }, 'serial port error');
    });
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => this.onClose(port, err ?? undefined));
    port.open((err) => {
      if (port !== this.port || this.stopped) {
        // close() ran while the open was in flight: do not leak an open file descriptor.
        if (!err) port.close(() => undefined);
        return;
      }
      if (err) return this.onOpenFailed(port, err);
      this.onOpened(port);
    });
  }

  private onOpened(port: SerialPort): void {
    this.open = true;
    this.counters.opens += 1;
    this.backoffMs = this.options.minBackoffMs ?? 200;
    port.on('data', (chunk: Buffer) => {
      this.counters.bytesIn += chunk.length;
      this.emit('data', chunk);
    });
    if (this.options.framer) {
      const framer = this.options.framer();
      this.framer = framer;
      framer.on('data', (frame: Frame) => this.emit('frame', frame));
      framer.on('error', (err) => {
        // A framer must not throw, but if it does the link stays up; the next open gets a new one.
        this.counters.framerErrors += 1;
        this.options.log.error({ err, port: this.options.path }, 'serial framer failed');
      });
      port.on('data', (chunk: Buffer) => framer.write(chunk));
    }
    this.options.log.info({ port: this.options.path, baudRate: this.options.baudRate }, 'serial port open');
    this.watchPresence(port);
    this.emit('open');
  }

  private watchPresence(port: SerialPort): void {
    const everyMs = this.options.presenceCheckMs ?? 1000;
    if (everyMs <= 0) return;
    const device = realpath(this.options.path).catch(() => undefined);
    const check = async (): Promise<void> => {
      const [expected, actual] = await Promise.all([device, realpath(this.options.path).catch(() => undefined)]);
      if (port !== this.port || !port.isOpen) return;
      if (actual !== undefined && actual === expected) {
        this.presenceTimer = setTimeout(() => void check(), everyMs);
        return;
      }
      this.options.log.warn({ port: this.options.path, expected, actual }, 'serial device vanished; closing the port');
      this.vanished = true;
      port.close(() => undefined);
    };
    this.presenceTimer = setTimeout(() => void check(), everyMs);
  }

  private onOpenFailed(port: SerialPort, err: Error): void {
    this.counters.openFailures += 1;
    this.discard(port);
    const retryInMs = this.nextBackoff();
    this.options.log.debug({ err, port: this.options.path, retryInMs }, 'serial port open failed');
    this.emit('open-failed', err, retryInMs);
    this.scheduleConnect(retryInMs);
  }

  private onClose(port: SerialPort, err: (Error & { disconnected?: boolean }) | undefined): void {
    if (port !== this.port) return;
    const wasOpen = this.open;
    this.open = false;
    this.discard(port);
    const reason: SerialCloseReason = this.stopped
      ? 'closed-by-us'
      : err?.disconnected || this.vanished
        ? 'disconnected'
        : 'error';
    this.vanished = false;
    if (reason !== 'closed-by-us') this.counters.disconnects += 1;
    if (wasOpen) {
      const level = reason === 'closed-by-us' ? 'info' : 'warn';
      this.options.log[level]({ port: this.options.path, reason, err }, 'serial port closed');
      this.emit('close', reason, err);
    }
    if (!this.stopped) this.scheduleConnect(this.nextBackoff());
  }

  private discard(port: SerialPort): void {
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.presenceTimer = undefined;
    port.removeAllListeners('data');
    this.framer?.removeAllListeners('data');
    this.framer?.destroy();
    this.framer = undefined;
    if (this.port === port) this.port = undefined;
    // Keep an 'error' listener: a late error from a discarded port must not crash the process.
    port.removeAllListeners('error');
    port.on('error', () => undefined);
  }

  private nextBackoff(): number {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
    return delay;
  }

  private scheduleConnect(delayMs: number): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }
}
