import ModbusSerial from 'modbus-serial';

// The package is CommonJS with `module.exports.default = module.exports`; under NodeNext the
// default import is the module object, so the client class is its `default`.
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

export type ModbusTarget = { tcp: { host: string; port: number } } | { rtu: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd' } };

/**
 * One Modbus conversation with the gate. The driver starts a new one after a timeout, a damaged
 * frame or a dead link (and when a hung sensor may come back with one): over TCP that is a new
 * socket, over RTU a clean start on the shared serial link (modbus-rtu.ts), whose port stays open
 * or is reopened by SerialLink itself.
 */
export interface ModbusConversation {
  readonly describe: string;
  /** Resolves when requests can go out; rejects (a ModbusFault) when they cannot. */
  connect(): Promise<void>;
  readInputRegisters(address: number, length: number): Promise<number[]>;
  writeHoldingRegister(address: number, value: number): Promise<void>;
  writeCoil(address: number, on: boolean): Promise<void>;
  /** Ends the conversation for good; a connect still in flight gives up. */
  dispose(): Promise<void>;
}

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

/**
 * Modbus TCP through modbus-serial, made fresh on every connect: modbus-serial's own reopen of a
 * failed socket is unreliable (a client stays "Port Not Open" after the server went away,
 * yaacov/node-modbus-serial#92), so a failure closes the conversation and the driver makes a new one.
 */
export class ModbusTcpConversation implements ModbusConversation {
  private client: ModbusClient | undefined;
  /** One transaction at a time: coil pulses and polls take turns. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly unitId: number,
    private readonly timeoutMs: number,
  ) {}

  get describe(): string {
    return `tcp://${this.target.host}:${this.target.port}`;
  }

  async connect(): Promise<void> {
    const client = new ModbusRTU();
    // Without a listener a serial or socket error event would crash the process.
    client.on('error', () => {});
    client.setTimeout(this.timeoutMs);
    this.client = client;
    try {
      await client.connectTCP(this.target.host, { port: this.target.port });
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
    // A socket holds no lock: drop it and move on (its close callback may never come if it is already gone).
    try {
      client.destroy(() => undefined);
    } catch {
      // already destroyed
    }
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
