import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import net from 'node:net';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';
import type { Logger } from '../../src/platform/logger.js';
import { silentLogger } from '../../src/platform/logger.js';
import { EscPosDecoder, ticketAsText, type DecodedTicket, type DecoderOutput } from './escpos-decoder.js';
import { encodeStatus, type PrinterStatus, type StatusBytes } from './escpos-status.js';

export interface PrinterSimulatorOptions {
  /** Append each decoded ticket as text here (the demo's "what would have printed"). */
  ticketFile?: string;
  log?: Logger;
}

export interface SimulatorFaults {
  paperOut: boolean;
  paperNearEnd: boolean;
  coverOpen: boolean;
  /** Offline for another reason (e.g. an unrecoverable error): prints nothing. */
  offline: boolean;
}

interface PrinterSimulatorEvents {
  ticket: [DecodedTicket];
  /** The paper ran out in the middle of a ticket: what came out before it did. */
  torn: [DecodedTicket['elements']];
  beep: [];
}

/**
 * An ESC/POS ticket printer's firmware, on TCP (like a LAN printer on port 9100) and on a
 * serial/PTY path. It decodes what it receives into tickets, answers DLE EOT (always, in real
 * time) and GS r (in order, only while it can print), and can be put out of paper, cover open
 * or offline: then it prints nothing and discards the data, like a stopped printer whose
 * buffer is cleared with DLE ENQ 2.
 *
 * Each TCP connection and the serial port have their own decoder (a real printer has one
 * buffer, but our driver never interleaves two jobs).
 */
export class PrinterSimulator extends EventEmitter<PrinterSimulatorEvents> {
  readonly tickets: DecodedTicket[] = [];
  private faults: SimulatorFaults = { paperOut: false, paperNearEnd: false, coverOpen: false, offline: false };
  /** Lines of paper left before it runs out; undefined = endless. */
  private paperLines: number | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private port: SerialPort | undefined;
  private readonly log: Logger;
  /** Commands received while the printer could not print (dropped). */
  discardedCommands = 0;
  unknownCommands = 0;
  statusRequests = 0;
  private fileWrites: Promise<void> = Promise.resolve();

  constructor(private readonly options: PrinterSimulatorOptions = {}) {
    super();
    this.log = options.log ?? silentLogger();
  }

  /** Listens on 127.0.0.1; `port` 0 picks a free one. Resolves with the actual port. */
  async listenTcp(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = net.createServer((socket) => this.attachSocket(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  /** Opens the device side of a serial line (e.g. a PTY from openPtyPair). */
  async openSerial(path: string, baudRate = 9600): Promise<void> {
    const port = createSerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const decoder = new EscPosDecoder();
    port.on('data', (chunk: Buffer) => this.receive(decoder, chunk, (bytes) => port.write(bytes)));
    port.on('error', (err) => this.log.warn({ err }, 'printer simulator serial error'));
    this.port = port;
  }

  get url(): string {
    const address = this.server?.address() as net.AddressInfo | undefined;
    if (!address) throw new Error('the printer simulator is not listening on TCP');
    return `tcp://127.0.0.1:${address.port}`;
  }

  setFaults(faults: Partial<SimulatorFaults>): void {
    this.faults = { ...this.faults, ...faults };
    if (faults.paperOut === false) this.paperLines = undefined;
  }

  /** Paper runs out after this many more printed lines (mid-ticket if you like). */
  setPaperRemaining(lines: number | undefined): void {
    this.paperLines = lines;
  }

  get status(): StatusBytes {
    return encodeStatus(this.statusFlags());
  }

  private statusFlags(): Partial<PrinterStatus> {
    const { paperOut, paperNearEnd, coverOpen, offline } = this.faults;
    return { paperOut, paperNearEnd, coverOpen, online: !(paperOut || coverOpen || offline), unrecoverableError: offline };
  }

  private canPrint(): boolean {
    return !(this.faults.paperOut || this.faults.coverOpen || this.faults.offline);
  }

  private attachSocket(socket: net.Socket): void {
    this.sockets.add(socket);
    const decoder = new EscPosDecoder();
    socket.on('data', (chunk: Buffer) => this.receive(decoder, chunk, (bytes) => socket.write(bytes)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private receive(decoder: EscPosDecoder, chunk: Buffer, reply: (bytes: Buffer) => void): void {
    for (const output of decoder.push(chunk)) this.handle(decoder, output, reply);
  }

  private handle(decoder: EscPosDecoder, output: DecoderOutput, reply: (bytes: Buffer) => void): void {
    switch (output.type) {
      case 'realtime-status': {
        this.statusRequests += 1;
        const bytes = this.status;
        const answer = [bytes.printer, bytes.offlineCause, bytes.errorCause, bytes.paperSensor][output.n - 1];
        if (answer !== undefined) reply(Buffer.from([answer]));
        return;
      }
      case 'recover':
        return;
      case 'unknown':
        this.unknownCommands += 1;
        this.log.debug({ command: output.command }, 'printer simulator: unknown command');
        return;
      default:
        break;
    }
    if (!this.canPrint()) {
      // A stopped printer: nothing comes out and nothing is answered in order.
      this.discardedCommands += 1;
      decoder.clear();
      return;
    }
    switch (output.type) {
      case 'line':
        if (this.paperLines !== undefined) {
          this.paperLines -= 1;
          if (this.paperLines <= 0) {
            this.faults.paperOut = true;
            this.emit('torn', decoder.partial());
            decoder.clear();
          }
        }
        return;
      case 'paper-status': {
        const near = this.faults.paperNearEnd ? 0x03 : 0;
        reply(Buffer.from([near]));
        return;
      }
      case 'beep':
        this.emit('beep');
        return;
      case 'ticket':
        this.tickets.push(output.ticket);
        if (this.options.ticketFile) {
          const file = this.options.ticketFile;
          const text = ticketAsText(output.ticket);
          this.fileWrites = this.fileWrites.then(() => appendFile(file, `${text}\n`)).catch((err) => this.log.warn({ err, file }, 'cannot append the ticket file'));
        }
        this.emit('ticket', output.ticket);
        return;
      default:
        return;
    }
  }

  /** Resolves once `count` tickets have been printed in all (counting earlier ones). */
  waitForTickets(count: number, timeoutMs = 5000): Promise<DecodedTicket[]> {
    if (this.tickets.length >= count) return Promise.resolve(this.tickets.slice(0, count));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ticket', onTicket);
        reject(new Error(`printer simulator: ${this.tickets.length}/${count} tickets after ${timeoutMs} ms`));
      }, timeoutMs);
      const onTicket = (): void => {
        if (this.tickets.length < count) return;
        clearTimeout(timer);
        this.off('ticket', onTicket);
        resolve(this.tickets.slice(0, count));
      };
      this.on('ticket', onTicket);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.fileWrites;
  }
}
