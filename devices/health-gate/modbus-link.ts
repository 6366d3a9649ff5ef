import ModbusSerial from 'modbus-serial';

// The package is CommonJS with `module.exports.default = module.exports`; under NodeNext the
// default import is the module object, so the client class is its `default`.
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

/**
 * One Modbus conversation with the gate, made fresh on every connect: modbus-serial's own
 * reopen of a failed port is unreliable (a TCP client stays "Port Not Open" after the server went
 * away, yaacov/node-modbus-serial#92), and after an RTU timeout a late reply could be matched to
 * the next request. So a failure closes the link; the driver makes a new one.
 */

export type ModbusTarget = { tcp: { host: string; port: number } } | { rtu: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd' } };

export type ModbusFaultKind = 'timeout' | 'crc' | 'exception' | 'port' | 'other';

export class ModbusFault extends Error {
  constructor(
    readonly kind: ModbusFaultKind,
    message: string,
    /** The Modbus exception code, for `exception`. */
    readonly exceptionCode?: number,
  ) {
    super(message);
    this.name = 'ModbusFault';
  }
}

/** Maps modbus-serial's assorted error shapes (plain objects with errno, Errors with modbusCode). */
export function classifyModbusError(error: unknown): ModbusFault {
  if (error instanceof ModbusFault) return error;
  const e = (error ?? {}) as { message?: unknown; errno?: unknown; modbusCode?: unknown; code?: unknown };
  const message = typeof e.message === 'string' && e.message ? e.message : String(error);
  if (typeof e.modbusCode === 'number') return new ModbusFault('exception', message, e.modbusCode);
  if (e.errno === 'ETIMEDOUT' || /timed out/i.test(message)) return new ModbusFault('timeout', message);
  if (/CRC error/i.test(message)) return new ModbusFault('crc', message);
  if (/data length error/i.test(message)) return new ModbusFault('crc', message);
  if (e.errno === 'ECONNREFUSED' || e.code === 'ECONNREFUSED' || /port not open|ENOENT|ECONNRESET|EPIPE|closed/i.test(message)) {
    return new ModbusFault('port', message);
  }
  return new ModbusFault('other', message);
}

export function parseTcpTarget(hostPort: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(hostPort.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port < 1 || port > 65535) throw new Error(`modbus tcp target "${hostPort}" is not host:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

export class ModbusLink {
  private client: ModbusClient | undefined;
  /** modbus-serial cannot run two RTU transactions at once; coil pulses and polls take turns. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly target: ModbusTarget,
    private readonly unitId: number,
    private readonly timeoutMs: number,
  ) {}

  get describe(): string {
    return 'tcp' in this.target ? `tcp://${this.target.tcp.host}:${this.target.tcp.port}` : `rtu:${this.target.rtu.path}`;
  }

  async connect(): Promise<void> {
    const client = new ModbusRTU();
    // Without a listener a serial or socket error event would crash the process.
    client.on('error', () => {});
    client.setTimeout(this.timeoutMs);
    this.client = client;
    try {
      if ('tcp' in this.target) {
        await client.connectTCP(this.target.tcp.host, { port: this.target.tcp.port });
      } else {
        await client.connectRTUBuffered(this.target.rtu.path, { baudRate: this.target.rtu.baudRate, parity: this.target.rtu.parity, dataBits: 8, stopBits: 1 });
      }
      client.setID(this.unitId);
    } catch (error) {
      await this.close();
      throw classifyModbusError(error);
    }
    if (this.closed) await this.close();
  }

  readInputRegisters(address: number, length: number): Promise<number[]> {
    return this.run(async (client) => (await client.readInputRegisters(address, length)).data);
  }

  writeHoldingRegister(address: number, value: number): Promise<void> {
    return this.run(async (client) => {
      await client.writeRegister(address, value);
    });
  }

  writeCoil(address: number, on: boolean): Promise<void> {
    return this.run(async (client) => {
      await client.writeCoil(address, on);
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if ('tcp' in this.target) {
      // A socket holds no lock: drop it and move on (its close callback may never come if it is already gone).
      try {
        client.destroy(() => undefined);
      } catch {
        // already destroyed
      }
      return;
    }
    // RTU: destroy() would leave the serial port open (RTUBufferedPort has no destroy) and its
    // lock would refuse the next connect ("Cannot lock port"), so close and wait for it.
    await new Promise<void>((resolve) => {
      const fallback = setTimeout(resolve, 1000);
      try {
        client.close(() => {
          clearTimeout(fallback);
          resolve();
        });
      } catch {
        clearTimeout(fallback);
        resolve();
      }
    });
  }

  /** Marks the link as finished for good: a connect still in flight closes itself. */
  async dispose(): Promise<void> {
    this.closed = true;
    await this.close();
  }

  private run<T>(operation: (client: ModbusClient) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      const client = this.client;
      if (!client || !client.isOpen) throw new ModbusFault('port', `modbus link ${this.describe} is not open`);
      try {
        return await operation(client);
      } catch (error) {
        throw classifyModbusError(error);
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }
}
