import net from 'node:net';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';

/** Where the printer is: `tcp://host:port`, a device file such as /dev/usb/lp0, or a serial port. */
export type PrinterAddress = string | { serial: string; baudRate: number };

/**
 * The shape node-thermal-printer accepts as `interface` when given an object instead of a URI
 * (lib/interfaces/index.js returns objects unchanged); it has no serial interface of its own.
 */
export interface ThermalInterface {
  getPrinterName(): string;
  isPrinterConnected(): Promise<boolean>;
  execute(buffer: Buffer, options?: { waitForResponse?: boolean }): Promise<Buffer | string | undefined>;
}

/**
 * The byte pipe to one printer. Printing goes through node-thermal-printer (`thermalInterface`);
 * status requests, which need a reply of a known length, go through `exchange`.
 */
export interface PrinterLink {
  readonly description: string;
  /** What node-thermal-printer is given as `interface`. */
  readonly thermalInterface: string | ThermalInterface;
  /** Whether the printer can answer (a write-only device file cannot be read back here). */
  readonly answers: boolean;
  /** Sends `bytes` and resolves with exactly `expect` reply bytes; rejects after timeoutMs. */
  exchange(bytes: Buffer, expect: number, timeoutMs: number): Promise<Buffer>;
  close(): Promise<void>;
}

const TCP_URI = /^tcp:\/\/([^/:]+)(?::(\d+))?\/?$/i;

export function openPrinterLink(address: PrinterAddress): PrinterLink {
  if (typeof address === 'object') return new SerialPrinterLink(address.serial, address.baudRate);
  const tcp = TCP_URI.exec(address);
  if (tcp) return new TcpPrinterLink(address, tcp[1]!, Number(tcp[2] ?? 9100));
  return new DeviceFilePrinterLink(address);
}

class TcpPrinterLink implements PrinterLink {
  readonly answers = true;
  constructor(
    readonly thermalInterface: string,
    private readonly host: string,
    private readonly port: number,
  ) {}

  get description(): string {
    return `tcp://${this.host}:${this.port}`;
  }

  exchange(bytes: Buffer, expect: number, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const socket = net.connect({ host: this.host, port: this.port });
      const done = (err?: Error): void => {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.destroy();
        if (err) reject(err);
        else resolve(Buffer.concat(chunks).subarray(0, expect));
      };
      const timer = setTimeout(() => done(new Error(`printer ${this.description} did not answer within ${timeoutMs} ms (${received}/${expect} bytes)`)), timeoutMs);
      socket.on('error', (err) => done(new Error(`printer ${this.description}: ${err.message}`)));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= expect) done();
      });
      socket.on('close', () => done(new Error(`printer ${this.description} closed the connection (${received}/${expect} bytes)`)));
      socket.write(bytes);
      if (expect === 0) socket.end(() => done());
    });
  }

  async close(): Promise<void> {}
}

class DeviceFilePrinterLink implements PrinterLink {
  readonly answers = false;
  constructor(readonly thermalInterface: string) {}

  get description(): string {
    return this.thermalInterface;
  }

  async exchange(): Promise<Buffer> {
    throw new Error(`printer ${this.thermalInterface} is a write-only device file here: status cannot be read back`);
  }

  async close(): Promise<void> {}
}

/**
 * A serial printer. The port is opened lazily and recreated after an error (node-serialport
 * ports are not reopened in place). One exchange at a time: the dispenser serialises access.
 */
class SerialPrinterLink implements PrinterLink {
  readonly answers = true;
  readonly thermalInterface: ThermalInterface;
  private port: SerialPort | undefined;
  private pending: { expect: number; chunks: Buffer[]; received: number; finish: (err?: Error) => void } | undefined;

  constructor(
    private readonly path: string,
    private readonly baudRate: number,
  ) {
    this.thermalInterface = {
      getPrinterName: () => this.path,
      isPrinterConnected: async () => this.port?.isOpen === true,
      execute: async (buffer, options) => {
        // GS r 1 at the end of the job answers one byte once everything before it printed.
        if (options?.waitForResponse) return this.exchange(buffer, 1, this.responseTimeoutMs);
        await this.exchange(buffer, 0, this.responseTimeoutMs);
        return undefined;
      },
    };
  }

  /** How long execute(waitForResponse) waits; the printer sets it from its options. */
  responseTimeoutMs = 5000;

  get description(): string {
    return `serial ${this.path}@${this.baudRate}`;
  }

  private async openPort(): Promise<SerialPort> {
    if (this.port?.isOpen) return this.port;
    const port = createSerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`cannot open printer port ${this.path}: ${err.message}`)) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => this.dropPort(port));
    port.on('close', () => this.dropPort(port));
    this.port = port;
    return port;
  }

  private dropPort(port: SerialPort): void {
    if (this.port !== port) return;
    this.port = undefined;
    this.pending?.finish(new Error(`printer port ${this.path} closed`));
  }

  private onData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) return; // unsolicited bytes (e.g. a late answer after a timeout) are dropped
    pending.chunks.push(chunk);
    pending.received += chunk.length;
    if (pending.received >= pending.expect) pending.finish();
  }

  async exchange(bytes: Buffer, expect: number, timeoutMs: number): Promise<Buffer> {
    const port = await this.openPort();
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.pending?.finish === finish) this.pending = undefined;
        if (err) reject(err);
        else resolve(Buffer.concat(chunks).subarray(0, expect));
      };
      const timer = setTimeout(() => finish(new Error(`printer ${this.description} did not answer within ${timeoutMs} ms`)), timeoutMs);
      if (expect > 0) this.pending = { expect, chunks, received: 0, finish };
      port.write(bytes, (err) => {
        if (err) return finish(new Error(`cannot write to printer ${this.description}: ${err.message}`));
        port.drain((drainErr) => {
          if (drainErr) finish(new Error(`cannot write to printer ${this.description}: ${drainErr.message}`));
          else if (expect === 0) finish();
        });
      });
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.pending?.finish(new Error('printer link closed'));
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
