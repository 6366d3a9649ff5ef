import { SerialLink, SerialLinkClosedError } from '../../src/platform/serial/serial-link.js';
import { Rs485Bus } from '../../src/platform/serial/rs485-bus.js';
import { BusClosedError, BusLinkDownError, BusTimeoutError } from '../../src/platform/serial/bus-errors.js';
import type { Logger } from '../../src/platform/logger.js';
import { ModbusFault } from './modbus-link.js';
import type { ModbusLine } from './modbus-line.js';
import { RtuAnswerFramer, rtuRequest, type RtuAnswer } from './modbus-rtu-codec.js';

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
export class RtuLine implements ModbusLine {
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

  get opens(): number {
    return this.link.stats.opens;
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
  async request(functionCode: number, first: number, second: number): Promise<Buffer> {
    const { unitId, timeoutMs } = this.options;
    const frame = rtuRequest(unitId, functionCode, first, second);
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
