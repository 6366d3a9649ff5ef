import { ModbusFault, type ModbusConversation } from './modbus-link.js';
import { FC_READ_INPUT_REGISTERS, FC_WRITE_SINGLE_COIL, FC_WRITE_SINGLE_REGISTER } from './modbus-rtu-codec.js';

/**
 * The gate's Modbus line, RTU (modbus-rtu.ts, on the shared SerialLink and Rs485Bus) or TCP
 * (modbus-tcp.ts, on the shared TcpLink): both keep themselves connected through the one
 * reconnect lifecycle (src/platform/link), so what differs is only the framing.
 */
export interface ModbusLine {
  readonly describe: string;
  /** Connections opened so far: a conversation begun on one connection ends with it. */
  readonly opens: number;
  start(): void;
  close(): Promise<void>;
  /** Resolves when the line is open; rejects (a ModbusFault 'port') after the request timeout. */
  whenOpen(): Promise<void>;
  /** One request (function code, two 16-bit fields), and the data of its answer (the PDU after the function code). */
  request(functionCode: number, first: number, second: number): Promise<Buffer>;
  /** Drops bytes of an answer that came too late to count (they must not glue onto the next one). */
  discardPartial(): void;
}

/**
 * One conversation on a line. It ends when the line's connection does: the first request after
 * a reopen fails as a `port` fault, so the driver starts a new conversation and treats what the
 * sensor did meanwhile as unknown (a frozen sensor across a reconnect is caught that way).
 */
export class LineConversation implements ModbusConversation {
  private disposed = false;
  private connection: number | undefined;

  constructor(private readonly line: ModbusLine) {}

  get describe(): string {
    return this.line.describe;
  }

  async connect(): Promise<void> {
    this.line.discardPartial();
    await this.line.whenOpen();
    if (this.disposed) throw new ModbusFault('port', `${this.describe}: conversation ended`);
    this.connection = this.line.opens;
  }

  async readInputRegisters(address: number, length: number): Promise<number[]> {
    const data = await this.request(FC_READ_INPUT_REGISTERS, address, length);
    if (data[0] !== length * 2 || data.length !== 1 + length * 2) throw new ModbusFault('crc', `data length error: ${data[0]} bytes for ${length} registers`);
    return Array.from({ length }, (_, i) => data.readUInt16BE(1 + i * 2));
  }

  async writeHoldingRegister(address: number, value: number): Promise<void> {
    await this.request(FC_WRITE_SINGLE_REGISTER, address, value);
  }

  async writeCoil(address: number, on: boolean): Promise<void> {
    await this.request(FC_WRITE_SINGLE_COIL, address, on ? 0xff00 : 0x0000);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private request(functionCode: number, first: number, second: number): Promise<Buffer> {
    if (this.disposed) return Promise.reject(new ModbusFault('port', `${this.describe}: conversation ended`));
    if (this.connection !== this.line.opens) return Promise.reject(new ModbusFault('port', `${this.describe}: the link was reopened since this conversation began`));
    return this.line.request(functionCode, first, second);
  }
}
