import { createServer, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from './listen.js';

/**
 * A health gate as a Modbus TCP slave, written from firmware-protocols/health-gate.md and the
 * Modbus application protocol alone: it imports nothing of devices/health-gate (not its
 * register codec, not modbus-serial), so a mistake shared by our codec and our simulator cannot
 * hide here. Default map: input registers 0 body temperature (0.1 °C), 1 ambient, 2 status bits
 * (bit0 presence), 3 measurement sequence; holding 10 fever threshold; coils 0 turnstile, 1 alarm.
 */
export class ModbusTcpGatePeer {
  readonly input = new Uint16Array(4);
  readonly holding = new Uint16Array(16);
  readonly coils = [false, false];
  /** Requests answered, and connections accepted (a reconnect shows as one more). */
  requests = 0;
  connections = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<ModbusTcpGatePeer> {
    const server = createServer();
    const peer = new ModbusTcpGatePeer(server, await listenOnLoopback(server, 0));
    server.on('connection', (socket) => peer.accept(socket));
    return peer;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  set presence(on: boolean) {
    this.input[2] = on ? this.input[2]! | 1 : this.input[2]! & ~1;
  }

  /** A finished measurement: temperature in register 0, the sequence register moves on. */
  measure(celsius: number): void {
    this.input[0] = Math.round(celsius * 10) & 0xffff;
    this.input[3] = (this.input[3]! + 1) & 0xffff;
  }

  /** The link drops: every open connection is cut (the gate rebooted, a switch port flapped). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
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
    this.connections += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // MBAP header: transaction id u16, protocol id u16 (0), length u16 (unit id + PDU), unit id u8.
      while (pending.length >= 7) {
        const length = pending.readUInt16BE(4);
        if (pending.length < 6 + length) break;
        const frame = pending.subarray(0, 6 + length);
        pending = pending.subarray(6 + length);
        const reply = this.answer(frame.subarray(7));
        const header = Buffer.alloc(7);
        frame.copy(header, 0, 0, 4); // transaction and protocol id echoed
        header.writeUInt16BE(reply.length + 1, 4);
        header[6] = frame[6]!;
        this.requests += 1;
        socket.write(Buffer.concat([header, reply]));
      }
    });
  }

  private answer(pdu: Buffer): Buffer {
    const fc = pdu[0]!;
    const a = pdu.readUInt16BE(1);
    const b = pdu.readUInt16BE(3);
    const exception = (code: number): Buffer => Buffer.from([fc | 0x80, code]);
    switch (fc) {
      case 3:
      case 4: {
        const table = fc === 4 ? this.input : this.holding;
        if (b < 1 || a + b > table.length) return exception(2);
        const out = Buffer.alloc(2 + 2 * b);
        out[0] = fc;
        out[1] = 2 * b;
        for (let i = 0; i < b; i++) out.writeUInt16BE(table[a + i]!, 2 + 2 * i);
        return out;
      }
      case 5:
        if (a >= this.coils.length) return exception(2);
        this.coils[a] = b === 0xff00;
        return Buffer.from(pdu.subarray(0, 5));
      case 6:
        if (a >= this.holding.length) return exception(2);
        this.holding[a] = b;
        return Buffer.from(pdu.subarray(0, 5));
      default:
        return exception(1);
    }
  }
}
