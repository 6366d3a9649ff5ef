export type ModbusTarget = { tcp: { host: string; port: number } } | { rtu: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd' } };

/**
 * One Modbus conversation with the gate. The driver starts a new one after a timeout, a damaged
 * frame or a dead link (and when a hung sensor may come back with one): a clean start on the
 * gate's line (modbus-line.ts), whose connection the shared reconnect lifecycle keeps open or
 * reopens by itself, over TCP and RTU alike.
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
