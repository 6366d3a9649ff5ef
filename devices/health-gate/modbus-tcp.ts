import { TcpLink } from '../../src/platform/link/tcp-link.js';
import type { Logger } from '../../src/platform/logger.js';
import { ModbusFault } from './modbus-link.js';
import type { ModbusLine } from './modbus-line.js';
import { mbapRequest, MbapReader } from './modbus-tcp-codec.js';

export interface TcpModbusLineOptions {
  host: string;
  port: number;
  unitId: number;
  timeoutMs: number;
  log: Logger;
}

interface Waiting {
  transaction: number;
  functionCode: number;
  resolve(data: Buffer): void;
  reject(fault: ModbusFault): void;
}

/**
 * The gate's Modbus TCP server: the shared TcpLink keeps one socket open (reopened after the
 * shared back-off when the gate or the network drops it), and requests go out one at a time with
 * their own transaction id. What is left here is Modbus TCP: the header, the answer matcher and
 * the faults the driver reacts to.
 */
export class TcpModbusLine implements ModbusLine {
  readonly link: TcpLink;
  private readonly reader = new MbapReader();
  private transaction = 0;
  private waiting: Waiting | undefined;
  /** One transaction at a time: coil pulses and polls take turns (many gates serve one at a time). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TcpModbusLineOptions) {
    this.link = new TcpLink({ host: options.host, port: options.port, log: options.log, connectTimeoutMs: Math.max(options.timeoutMs, 1000), minBackoffMs: 250 });
    this.link.on('data', (chunk) => this.onData(chunk));
    this.link.on('open', () => this.reader.reset());
    this.link.on('close', (reason) => this.waiting?.reject(new ModbusFault('port', `${this.describe}: connection ${reason}`)));
  }

  get describe(): string {
    return this.link.describe;
  }

  get opens(): number {
    return this.link.stats.opens;
  }

  start(): void {
    this.link.start();
  }

  async close(): Promise<void> {
    this.waiting?.reject(new ModbusFault('port', `${this.describe}: closed`));
    await this.link.close();
  }

  async whenOpen(): Promise<void> {
    try {
      await this.link.whenOpen(this.options.timeoutMs);
    } catch (err) {
      throw new ModbusFault('port', (err as Error).message);
    }
  }

  discardPartial(): void {
    this.reader.reset();
  }

  request(functionCode: number, first: number, second: number): Promise<Buffer> {
    const run = this.queue.then(() => this.requestNow(functionCode, first, second));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private requestNow(functionCode: number, first: number, second: number): Promise<Buffer> {
    const { unitId, timeoutMs } = this.options;
    if (!this.link.isOpen) return Promise.reject(new ModbusFault('port', `modbus link ${this.describe} is not open`));
    this.transaction = (this.transaction + 1) & 0xffff;
    const transaction = this.transaction;
    return new Promise<Buffer>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        if (this.waiting === waiting) this.waiting = undefined;
      };
      const waiting: Waiting = {
        transaction,
        functionCode,
        resolve: (data) => {
          settle();
          resolve(data);
        },
        reject: (fault) => {
          settle();
          reject(fault);
        },
      };
      const timer = setTimeout(() => waiting.reject(new ModbusFault('timeout', `Timed out: unit ${unitId} at ${this.describe} did not answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = waiting;
      this.link.write(mbapRequest(transaction, unitId, functionCode, first, second)).catch((err: Error) => waiting.reject(new ModbusFault('port', err.message)));
    });
  }

  private onData(chunk: Buffer): void {
    for (const answer of this.reader.push(chunk)) {
      const waiting = this.waiting;
      if (!answer.ok) {
        this.options.log.warn({ link: this.describe, bytes: answer.bytes.length }, 'modbus tcp: bytes that are not an answer; dropped');
        waiting?.reject(new ModbusFault('crc', `data length error: ${answer.bytes.length} bytes that are not a Modbus TCP answer`));
        continue;
      }
      // A late answer to a request that timed out carries an older transaction id: not ours.
      if (!waiting || answer.transaction !== waiting.transaction || answer.unit !== this.options.unitId) continue;
      if (answer.functionCode === (waiting.functionCode | 0x80)) {
        const code = answer.data[0] ?? 0;
        waiting.reject(new ModbusFault('exception', `Modbus exception ${code} from unit ${this.options.unitId}`, code));
      } else if (answer.functionCode !== waiting.functionCode) {
        waiting.reject(new ModbusFault('crc', `answer with function ${answer.functionCode} to a request for ${waiting.functionCode}`));
      } else {
        waiting.resolve(answer.data);
      }
    }
  }
}
