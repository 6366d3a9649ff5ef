import { SerialLink, SerialLinkClosedError } from '../../src/platform/serial/serial-link.js';
import { Rs485Bus } from '../../src/platform/serial/rs485-bus.js';
import { BusClosedError, BusLinkDownError, BusTimeoutError } from '../../src/platform/serial/bus-errors.js';
import type { Logger } from '../../src/platform/logger.js';
import { ModbusFault, type ModbusConversation } from './modbus-link.js';
import {
  FC_READ_INPUT_REGISTERS,
  FC_WRITE_SINGLE_COIL,
  FC_WRITE_SINGLE_REGISTER,
  readInputRegistersRequest,
  RtuAnswerFramer,
  writeCoilRequest,
  writeRegisterRequest,
  type RtuAnswer,
} from './modbus-rtu-codec.js';

export interface RtuLineOptions {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  unitId: number;
  timeoutMs: number;
  log: Logger;
}

/**
 * The gate's RS-485 line: the shared SerialLink keeps the port open (presence watch, back-off,
 * a new port object and a new framer on every reopen) and the shared Rs485Bus puts one request
 * and its answer on the wire at a time. What is left here is Modbus: the request frames, the
 * answer matcher, and the faults the driver reacts to.
 */
export class RtuLine {
  readonly link: SerialLink<RtuAnswer>;
  private readonly bus: Rs485Bus<RtuAnswer>;
  private framer: RtuAnswerFramer | undefined;
  private readonly key: string;

  constructor(private readonly options: RtuLineOptions) {
    this.link = new SerialLink<RtuAnswer>({
      path: options.path,
      baudRate: options.baudRate,
      parity: options.parity,
      log: options.log,
      framer: () => (this.framer = new RtuAnswerFramer()),
      minBackoffMs: 250,
    });
    this.bus = new Rs485Bus<RtuAnswer>({ link: this.link, log: options.log });
    this.key = `unit-${options.unitId}`;
  }

  get describe(): string {
    return `rtu:${this.options.path}`;
  }

  get unitId(): number {
    return this.options.unitId;
  }

  start(): void {
    this.link.start();
  }

  async close(): Promise<void> {
    this.bus.close();
    await this.link.close();
  }

  /** A new conversation on the line: a partial answer left from the previous one is dropped. */
  conversation(): ModbusConversation {
    return new RtuConversation(this);
  }

  /** Drops bytes of an answer that came too late to count (they must not glue onto the next one). */
  discardPartial(): void {
    this.framer?.reset();
  }

  async whenOpen(): Promise<void> {
    try {
      await this.link.whenOpen(this.options.timeoutMs);
    } catch (err) {
      throw new ModbusFault('port', (err as Error).message);
    }
  }

  /** One request, and the data of its answer (the PDU after the function code). */
  async request(frame: Buffer, functionCode: number): Promise<Buffer> {
    const { unitId, timeoutMs } = this.options;
    const isAnswer = (answer: RtuAnswer): boolean => !answer.crcOk || (answer.unit === unitId && (answer.functionCode & 0x7f) === functionCode);
    let answer: RtuAnswer;
    try {
      answer = await this.bus.transact(this.key, frame, isAnswer, { timeoutMs, retries: 0 });
    } catch (err) {
      if (err instanceof BusTimeoutError) {
        this.discardPartial();
        throw new ModbusFault('timeout', `Timed out: unit ${unitId} on ${this.options.path} did not answer within ${timeoutMs} ms`);
      }
      if (err instanceof BusLinkDownError || err instanceof BusClosedError || err instanceof SerialLinkClosedError) throw new ModbusFault('port', err.message);
      throw err;
    }
    if (!answer.crcOk) throw new ModbusFault('crc', `CRC error in the answer of unit ${unitId} (${answer.bytes.length} bytes)`);
    if (answer.functionCode & 0x80) {
      const code = answer.data[0] ?? 0;
      throw new ModbusFault('exception', `Modbus exception ${code} from unit ${unitId}`, code);
    }
    return answer.data;
  }
}

class RtuConversation implements ModbusConversation {
  private disposed = false;

  constructor(private readonly line: RtuLine) {}

  get describe(): string {
    return this.line.describe;
  }

  async connect(): Promise<void> {
    this.line.discardPartial();
    await this.line.whenOpen();
    if (this.disposed) throw new ModbusFault('port', `${this.describe}: conversation ended`);
  }

  async readInputRegisters(address: number, length: number): Promise<number[]> {
    const data = await this.request(readInputRegistersRequest(this.unit, address, length), FC_READ_INPUT_REGISTERS);
    if (data[0] !== length * 2 || data.length !== 1 + length * 2) throw new ModbusFault('crc', `data length error: ${data[0]} bytes for ${length} registers`);
    return Array.from({ length }, (_, i) => data.readUInt16BE(1 + i * 2));
  }

  async writeHoldingRegister(address: number, value: number): Promise<void> {
    await this.request(writeRegisterRequest(this.unit, address, value), FC_WRITE_SINGLE_REGISTER);
  }

  async writeCoil(address: number, on: boolean): Promise<void> {
    await this.request(writeCoilRequest(this.unit, address, on), FC_WRITE_SINGLE_COIL);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private get unit(): number {
    return this.line.unitId;
  }

  private request(frame: Buffer, functionCode: number): Promise<Buffer> {
    if (this.disposed) return Promise.reject(new ModbusFault('port', `${this.describe}: conversation ended`));
    return this.line.request(frame, functionCode);
  }
}
