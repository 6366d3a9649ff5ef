import { createServer, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from './listen.js';

/**
 * A LAN receipt printer (port 9100) written from firmware-protocols/escpos.md alone: it imports
 * nothing of devices/ticket-printer. Like many networked receipt printers it serves **one
 * connection at a time**: a second one while the first is open is closed at once (and counted).
 *
 * It answers what the document says a printer answers and ignores the rest of the job bytes:
 * `10 04 n` (DLE EOT n) with one status byte, `1D 72 01` (GS r 1, after the job) with the
 * paper-sensor byte, and it records `10 05 02` (DLE ENQ 2) with the connection it came on.
 */
export class EscPosTcpPrinterPeer {
  /** Connections accepted, and those refused because one was already open. */
  accepted = 0;
  refused = 0;
  /** DLE EOT requests answered, and which connection (1-based accept order) each command came on. */
  statusRequests = 0;
  readonly commands: Array<{ command: 'DLE EOT' | 'GS r' | 'DLE ENQ'; connection: number }> = [];
  /** When set, the next GS r 1 is answered "paper end" (0x0C) once: a fault that lasts one job. */
  failNextJob = false;
  private current: Socket | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(): Promise<EscPosTcpPrinterPeer> {
    return EscPosTcpPrinterPeer.startAt(0);
  }

  /** On a given port (0: any free one), for a client that was already trying to reach it. */
  static async startAt(port: number): Promise<EscPosTcpPrinterPeer> {
    const server = createServer();
    const peer = new EscPosTcpPrinterPeer(server, await listenOnLoopback(server, port));
    server.on('connection', (socket) => peer.accept(socket));
    return peer;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.current?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Switched off: the open connection is cut and new ones are refused until comeBack(). */
  goDown(): Promise<void> {
    return this.close();
  }

  /** Switched on again, at the same address. */
  async comeBack(): Promise<void> {
    await listenOnLoopback(this.server, this.port);
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.current) {
      this.refused += 1;
      socket.destroy();
      return;
    }
    this.accepted += 1;
    const connection = this.accepted;
    this.current = socket;
    socket.on('close', () => {
      if (this.current === socket) this.current = undefined;
    });
    let tail = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      // Keep two bytes of the previous chunk so a command split across chunks is still seen.
      const bytes = Buffer.concat([tail, chunk]);
      let i = 0;
      for (; i + 2 < bytes.length; i++) {
        const [a, b, c] = [bytes[i]!, bytes[i + 1]!, bytes[i + 2]!];
        if (a === 0x10 && b === 0x04 && c >= 1 && c <= 4) {
          this.statusRequests += 1;
          this.commands.push({ command: 'DLE EOT', connection });
          socket.write(Buffer.from([0x12])); // all clear: fixed bits only
          i += 2;
        } else if (a === 0x1d && b === 0x72 && c === 0x01) {
          this.commands.push({ command: 'GS r', connection });
          socket.write(Buffer.from([this.failNextJob ? 0x0c : 0x00]));
          this.failNextJob = false;
          i += 2;
        } else if (a === 0x10 && b === 0x05 && c === 0x02) {
          this.commands.push({ command: 'DLE ENQ', connection });
          i += 2;
        }
      }
      tail = Buffer.from(bytes.subarray(i));
    });
  }
}
