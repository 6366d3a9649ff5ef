import { existsSync } from 'node:fs';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';
import { LineFramer, type RawLine } from '../../src/platform/serial/line-framer.js';
import type { Logger } from '../../src/platform/logger.js';

/**
 * The scanner's serial line, kept open: a port that errors or closes (USB unplugged, socat gone)
 * is dropped and a new one is made after a back-off, as node-serialport recommends over reopening.
 */
export class ScannerPort {
  private port: SerialPort | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 250;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  private up = false;

  constructor(
    private readonly path: string,
    private readonly baudRate: number,
    /** A line from the scanner; `overlong` when it exceeded the limit and only its start is given. */
    private readonly onLine: (line: string, overlong: boolean) => void,
    private readonly onStatus: (up: boolean, reason?: string) => void,
    private readonly maxLineBytes: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
    // A vanished PTY (or a PTY whose peer died) does not always raise an error on our end; an
    // unplugged USB scanner's device node and its /dev/serial/by-id link disappear, so look.
    this.watchdog = setInterval(() => {
      if (this.port && !existsSync(this.path)) this.drop(this.port, 'device node vanished');
    }, 500);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(): void {
    if (this.stopped) return;
    const port = createSerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    this.port = port;
    // Bounded: a scanner that babbles without a newline must not grow memory.
    const framer = port.pipe(new LineFramer(this.maxLineBytes));
    framer.on('data', (line: RawLine) => this.onLine(line.bytes.toString('utf8'), line.overflow));
    port.on('error', (error: Error) => this.drop(port, error.message));
    port.on('close', () => this.drop(port, 'port closed'));
    port.open((error) => {
      if (error) return this.drop(port, error.message);
      this.retryMs = 250;
      this.setUp(true);
    });
  }

  private drop(port: SerialPort, reason: string): void {
    if (this.port !== port || this.stopped) return;
    this.port = undefined;
    port.removeAllListeners('data');
    if (port.isOpen) port.close(() => undefined);
    this.setUp(false, reason);
    this.retryTimer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  private setUp(up: boolean, reason?: string): void {
    if (this.up === up) return;
    this.up = up;
    if (up) this.log.info({ port: this.path }, 'health-code scanner connected');
    else this.log.warn({ port: this.path, reason }, 'health-code scanner lost; reconnecting');
    this.onStatus(up, reason);
  }
}
