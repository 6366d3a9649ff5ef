import { SerialLink } from '../../src/platform/serial/serial-link.js';
import { TcpLink } from '../../src/platform/link/tcp-link.js';
import type { Logger } from '../../src/platform/logger.js';

/** Where the printer is: `tcp://host:port`, a device file such as /dev/usb/lp0, or a serial port. */
export type PrinterAddress = string | { serial: string; baudRate: number };

/**
 * The shape node-thermal-printer accepts as `interface` when given an object instead of a URI
 * (lib/interfaces/index.js returns objects unchanged). We hand it one for TCP and serial so the
 * job goes down the same connection as the status polls.
 */
export interface ThermalInterface {
  getPrinterName(): string;
  isPrinterConnected(): Promise<boolean>;
  execute(buffer: Buffer, options?: { waitForResponse?: boolean }): Promise<Buffer | string | undefined>;
}

/**
 * The byte pipe to one printer. Jobs (through node-thermal-printer's `thermalInterface`),
 * status requests and DLE ENQ all go through `exchange`, one at a time, on one connection.
 */
export interface PrinterLink {
  readonly description: string;
  /** What node-thermal-printer is given as `interface`. */
  readonly thermalInterface: string | ThermalInterface;
  /** Whether the printer can answer (a write-only device file cannot be read back here). */
  readonly answers: boolean;
  /** Connections opened so far (one, unless the printer or the network dropped it). */
  readonly connections: number;
  /** Sends `bytes` and resolves with exactly `expect` reply bytes; rejects after timeoutMs. */
  exchange(bytes: Buffer, expect: number, timeoutMs: number): Promise<Buffer>;
  close(): Promise<void>;
}

const TCP_URI = /^tcp:\/\/([^/:]+)(?::(\d+))?\/?$/i;

export function openPrinterLink(address: PrinterAddress, log: Logger): PrinterLink {
  if (typeof address === 'object') return new ChannelPrinterLink(serialChannel(address.serial, address.baudRate, log));
  const tcp = TCP_URI.exec(address);
  if (tcp) return new ChannelPrinterLink(tcpChannel(tcp[1]!, Number(tcp[2] ?? 9100), log));
  return new DeviceFilePrinterLink(address);
}

/** A connection to a printer that stays open between exchanges and is reopened (by its link) when lost. */
interface ByteChannel {
  readonly description: string;
  readonly connections: number;
  readonly isOpen: boolean;
  /** Opens the connection unless it is open; rejects when it cannot within timeoutMs. */
  ensureOpen(timeoutMs: number): Promise<void>;
  write(bytes: Buffer): Promise<void>;
  /** Bytes from the printer, and the connection's loss (which fails the exchange in progress). */
  onData(handler: (chunk: Buffer) => void): void;
  onLost(handler: (reason: string) => void): void;
  /** An exchange timed out: bytes still on their way belong to it, so start a new connection. */
  discardInFlight(): void;
  close(): Promise<void>;
}

/**
 * Exchanges over one persistent channel, strictly one at a time (a reply is the next `expect`
 * bytes). Many LAN receipt printers take one TCP connection at a time, so polls, jobs and
 * DLE ENQ must share it rather than open one each.
 */
class ChannelPrinterLink implements PrinterLink {
  readonly answers = true;
  readonly thermalInterface: ThermalInterface;
  /** How long execute(waitForResponse) waits; the printer sets it from its options. */
  responseTimeoutMs = 5000;
  private pending: { expect: number; chunks: Buffer[]; received: number; finish: (err?: Error) => void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly channel: ByteChannel) {
    channel.onData((chunk) => this.onData(chunk));
    channel.onLost((reason) => this.pending?.finish(new Error(`printer ${this.description}: ${reason}`)));
    this.thermalInterface = {
      getPrinterName: () => this.description,
      isPrinterConnected: async () => this.channel.isOpen,
      execute: async (buffer, options) => {
        // GS r 1 at the end of the job answers one byte once everything before it printed.
        if (options?.waitForResponse) return this.exchange(buffer, 1, this.responseTimeoutMs);
        await this.exchange(buffer, 0, this.responseTimeoutMs);
        return undefined;
      },
    };
  }

  get description(): string {
    return this.channel.description;
  }

  get connections(): number {
    return this.channel.connections;
  }

  exchange(bytes: Buffer, expect: number, timeoutMs: number): Promise<Buffer> {
    const run = this.chain.then(() => this.exchangeNow(bytes, expect, timeoutMs));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async exchangeNow(bytes: Buffer, expect: number, timeoutMs: number): Promise<Buffer> {
    await this.channel.ensureOpen(timeoutMs);
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
      const timer = setTimeout(() => {
        this.channel.discardInFlight();
        finish(new Error(`printer ${this.description} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      if (expect > 0) this.pending = { expect, chunks, received: 0, finish };
      this.channel.write(bytes).then(
        () => {
          if (expect === 0) finish();
        },
        (err: Error) => finish(new Error(`cannot write to printer ${this.description}: ${err.message}`)),
      );
    });
  }

  private onData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) return; // unsolicited bytes (the printer's own ASB, a late answer) are dropped
    pending.chunks.push(chunk);
    pending.received += chunk.length;
    if (pending.received >= pending.expect) pending.finish();
  }

  async close(): Promise<void> {
    this.pending?.finish(new Error('printer link closed'));
    await this.channel.close();
  }
}

/**
 * A printer on a link that keeps itself connected (the shared reconnect lifecycle: TcpLink for a
 * LAN printer, SerialLink for a serial one): opened at the first exchange and kept open after,
 * reopened by the link with its back-off when lost. Only the printer's protocol is here.
 */
class LinkChannel implements ByteChannel {
  private started = false;

  constructor(
    readonly description: string,
    private readonly link: {
      readonly isOpen: boolean;
      readonly stats: { opens: number };
      start(): void;
      whenOpen(timeoutMs: number, failFast?: boolean): Promise<void>;
      write(bytes: Buffer): Promise<void>;
      renew(why: string): void;
      close(): Promise<void>;
    },
    private readonly events: { onData(handler: (chunk: Buffer) => void): void; onLost(handler: (reason: string) => void): void },
    /**
     * Whether a timed-out exchange gives the connection up: over TCP the late answer would be
     * taken for the next exchange's; a serial line has no connection to renew, and a late answer
     * arrives with no exchange waiting and is dropped (ChannelPrinterLink.onData).
     */
    private readonly renewAfterTimeout: boolean,
  ) {}

  get connections(): number {
    return this.link.stats.opens;
  }

  get isOpen(): boolean {
    return this.link.isOpen;
  }

  onData(handler: (chunk: Buffer) => void): void {
    this.events.onData(handler);
  }

  onLost(handler: (reason: string) => void): void {
    this.events.onLost(handler);
  }

  async ensureOpen(timeoutMs: number): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.link.start();
    }
    try {
      await this.link.whenOpen(timeoutMs, true);
    } catch (err) {
      throw new Error(`cannot reach printer ${this.description}: ${(err as Error).message}`);
    }
  }

  write(bytes: Buffer): Promise<void> {
    return this.link.write(bytes);
  }

  discardInFlight(): void {
    if (this.renewAfterTimeout) this.link.renew('an exchange timed out; its late answer must not reach the next one');
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

function tcpChannel(host: string, port: number, log: Logger): LinkChannel {
  const link = new TcpLink({ host, port, log });
  return new LinkChannel(
    link.describe,
    link,
    { onData: (handler) => link.on('data', handler), onLost: (handler) => link.on('close', (reason) => handler(`connection ${reason}`)) },
    true,
  );
}

function serialChannel(path: string, baudRate: number, log: Logger): LinkChannel {
  const link = new SerialLink({ path, baudRate, log });
  return new LinkChannel(
    `serial ${path}`,
    link,
    { onData: (handler) => link.on('data', handler), onLost: (handler) => link.on('close', (reason) => handler(`port ${reason}`)) },
    false,
  );
}

class DeviceFilePrinterLink implements PrinterLink {
  readonly answers = false;
  readonly connections = 0;
  constructor(readonly thermalInterface: string) {}

  get description(): string {
    return this.thermalInterface;
  }

  async exchange(): Promise<Buffer> {
    throw new Error(`printer ${this.thermalInterface} is a write-only device file here: status cannot be read back`);
  }

  async close(): Promise<void> {}
}
