import { createServer } from 'node:net';
import ModbusSerial, { type IServiceVector, type FCallback, type FCallbackVal } from 'modbus-serial';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';
import { openPtyPair, type PtyPair } from '../../src/platform/pty-pair.js';
import { DEFAULT_REGISTER_MAP, encodeStatus, encodeTemperature, type RegisterMap, type SensorStatus } from './registers.js';

/**
 * The gate's firmware behaviour for tests and `hall-edge demo`: a Modbus slave (TCP or RTU on a
 * serial path) holding the register map of firmware-protocols/health-gate.md, plus a health-code
 * scanner that writes lines on a serial port.
 */

const { ServerTCP, ServerSerial } = ModbusSerial;

export type GateFault =
  | { kind: 'none' }
  /** Status bit 2: the sensor says it is broken. */
  | { kind: 'sensor-fault' }
  /** Status bit 3 on the next measurements. */
  | { kind: 'out-of-range' }
  /** Every request answered with this Modbus exception code (4 = slave device failure). */
  | { kind: 'exception'; code: number }
  /** Replies with a corrupted CRC (RTU only: Modbus TCP has no CRC). */
  | { kind: 'crc' }
  /** Presence stays on but the sequence counter never moves again. */
  | { kind: 'frozen' };

export interface CoilWrite {
  coil: number;
  on: boolean;
  at: number;
}

interface ModbusErrorWithCode extends Error {
  modbusErrorCode: number;
}

function modbusException(code: number): ModbusErrorWithCode {
  return Object.assign(new Error(`simulated Modbus exception ${code}`), { modbusErrorCode: code });
}

export class GateSimulator {
  private body = 365;
  private ambient = 240;
  private status: SensorStatus = { presence: false, measuring: false, sensorFault: false, outOfRange: false };
  private sequence = 0;
  private readonly holding = new Map<number, number>();
  private readonly coils = new Map<number, boolean>();
  private fault: GateFault = { kind: 'none' };
  private silent = false;
  /** Every coil write the gate received, in order. */
  readonly coilWrites: CoilWrite[] = [];
  requests = 0;
  private closer: (() => Promise<void>) | undefined;

  private constructor(
    readonly map: RegisterMap,
    /** "host:port" for TCP, the serial path for RTU. */
    public address = '',
  ) {
    if (map.feverThreshold !== null) this.holding.set(map.feverThreshold, 373);
    if (map.compensation !== null) this.holding.set(map.compensation, 0);
  }

  /** A Modbus TCP gate on a free port of 127.0.0.1. */
  static async tcp(options: { unitId?: number; map?: RegisterMap } = {}): Promise<GateSimulator> {
    const sim = new GateSimulator(options.map ?? DEFAULT_REGISTER_MAP);
    // ServerTCP treats port 0 as "use 502", so pick a free port first and retry if someone took it.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      try {
        const server = await new Promise<InstanceType<typeof ServerTCP>>((resolve, reject) => {
          const s = new ServerTCP(sim.vector(), { host: '127.0.0.1', port, unitID: options.unitId ?? 1 });
          s.once('initialized', () => resolve(s));
          s.once('serverError', (error: Error | null) => reject(error ?? new Error('server error')));
        });
        server.on('socketError', () => {});
        server.on('error', () => {});
        sim.address = `127.0.0.1:${port}`;
        sim.closer = () => new Promise<void>((resolve) => server.close(() => resolve()));
        return sim;
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
  }

  /** A Modbus RTU gate on a serial path (one end of a PTY pair in tests and the demo). */
  static async serial(path: string, options: { baudRate?: number; unitId?: number; map?: RegisterMap } = {}): Promise<GateSimulator> {
    const sim = new GateSimulator(options.map ?? DEFAULT_REGISTER_MAP, path);
    let port: SerialPort | undefined;
    // Replies go through here so the simulator can corrupt their CRC on demand.
    const portResponse = {
      write(frame: Buffer): void {
        const out = Buffer.from(frame);
        if (sim.fault.kind === 'crc') out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff;
        port?.write(out);
      },
    };
    const server = await new Promise<InstanceType<typeof ServerSerial>>((resolve, reject) => {
      const created: InstanceType<typeof ServerSerial> = new ServerSerial(sim.vector(), {
        path,
        baudRate: options.baudRate ?? 9600,
        unitID: options.unitId ?? 1,
        portResponse,
        openCallback: (error: Error | null) => (error ? reject(error) : resolve(created)),
      } as ConstructorParameters<typeof ServerSerial>[1]);
    });
    server.on('socketError', () => {});
    server.on('error', () => {});
    port = (server as unknown as { getPort(): SerialPort }).getPort();
    sim.closer = () =>
      new Promise<void>((resolve) => {
        if (!port?.isOpen) return resolve();
        server.close(() => resolve());
      });
    return sim;
  }

  /** A person stepped up and was measured: a new measurement, so the counter moves. */
  measure(celsius: number): void {
    this.body = encodeTemperature(this.map, celsius);
    this.status = { ...this.status, presence: true, measuring: false, outOfRange: this.fault.kind === 'out-of-range' };
    if (this.fault.kind !== 'frozen') this.sequence = (this.sequence + 1) & 0xffff;
  }

  /** Someone stands in front of the sensor (or left: false). */
  setPresence(present: boolean): void {
    this.status = { ...this.status, presence: present };
  }

  setFault(fault: GateFault): void {
    if (fault.kind === 'crc' && !this.address.startsWith('/')) throw new Error('CRC faults exist on Modbus RTU only');
    this.fault = fault;
    this.status = { ...this.status, sensorFault: fault.kind === 'sensor-fault' };
    if (fault.kind === 'frozen') this.status = { ...this.status, presence: true };
  }

  /** Stop answering (a cut bus, a powered-off gate) or start again. */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /** Turnstile openings: rising edges of the gate coil. */
  gateOpenings(): number {
    return this.risingEdges(this.map.gateCoil);
  }

  alarmsSounded(): number {
    return this.risingEdges(this.map.alarmCoil);
  }

  coil(address: number): boolean {
    return this.coils.get(address) ?? false;
  }

  holdingRegister(address: number): number | undefined {
    return this.holding.get(address);
  }

  async close(): Promise<void> {
    const closer = this.closer;
    this.closer = undefined;
    await closer?.();
  }

  private risingEdges(coil: number): number {
    let previous = false;
    let edges = 0;
    for (const write of this.coilWrites) {
      if (write.coil !== coil) continue;
      if (write.on && !previous) edges++;
      previous = write.on;
    }
    return edges;
  }

  private inputRegister(address: number): number {
    const map = this.map;
    if (address === map.bodyTemperature) return this.body;
    if (address === map.ambientTemperature) return this.ambient;
    if (address === map.status) return encodeStatus(map, this.status);
    if (address === map.sequence) return this.sequence;
    return 0;
  }

  /** Why not answering: silence drops the request, an exception fault answers with it. */
  private refusal(): 'silent' | ModbusErrorWithCode | undefined {
    this.requests++;
    if (this.silent) return 'silent';
    if (this.fault.kind === 'exception') return modbusException(this.fault.code);
    return undefined;
  }

  // modbus-serial picks the callback form by the function's arity, so each keeps its exact parameters.
  private vector(): IServiceVector {
    return {
      getMultipleInputRegisters: (addr: number, length: number, _unitID: number, cb: FCallbackVal<number[]>) => {
        const refusal = this.refusal();
        if (refusal === 'silent') return;
        if (refusal) return cb(refusal, []);
        cb(null, Array.from({ length }, (_, i) => this.inputRegister(addr + i)));
      },
      getInputRegister: (addr: number, _unitID: number, cb: FCallbackVal<number>) => {
        const refusal = this.refusal();
        if (refusal === 'silent') return;
        if (refusal) return cb(refusal, 0);
        cb(null, this.inputRegister(addr));
      },
      getHoldingRegister: (addr: number, _unitID: number, cb: FCallbackVal<number>) => {
        const refusal = this.refusal();
        if (refusal === 'silent') return;
        if (refusal) return cb(refusal, 0);
        cb(null, this.holding.get(addr) ?? 0);
      },
      setRegister: (addr: number, value: number, _unitID: number, cb: FCallback) => {
        const refusal = this.refusal();
        if (refusal === 'silent') return;
        if (refusal) return cb(refusal);
        this.holding.set(addr, value);
        cb(null);
      },
      getCoil: (addr: number, _unitID: number, cb: FCallbackVal<boolean>) => {
        const refusal = this.refusal();
        if (refusal === 'silent') return;
        if (refusal) return cb(refusal, false);
        cb(null, this.coils.get(addr) ?? false);
      },
      setCoil: (addr: number, value: boolean, _unitID: number, cb: FCallback) => {
        const refusal = this.refusal();
        if (refusal === 'silent') return;
        if (refusal) return cb(refusal);
        this.coils.set(addr, value);
        this.coilWrites.push({ coil: addr, on: value, at: Date.now() });
        cb(null);
      },
    };
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A QR health-code scanner: writes one line per scan, as the real ones do in USB-serial mode. */
export class ScannerSimulator {
  private constructor(private readonly port: SerialPort) {
    port.on('error', () => {});
  }

  static async open(path: string, baudRate = 9600): Promise<ScannerSimulator> {
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p: SerialPort = createSerialPort({ path, baudRate }, (error) => (error ? reject(error) : resolve(p)));
    });
    return new ScannerSimulator(port);
  }

  /** One scan; `ending` is what the scanner appends (CR LF by default). */
  scan(payload: string, ending = '\r\n'): Promise<void> {
    return this.sendRaw(Buffer.from(payload + ending, 'utf8'));
  }

  sendRaw(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(bytes, (error) => (error ? reject(error) : this.port.drain(() => resolve())));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}

export interface GateSimulators {
  gate: GateSimulator;
  scanner: ScannerSimulator;
  /** Options for a `health-gate` device entry driven by these simulators. */
  deviceOptions: { modbus: { tcp: string }; scanner: { port: string } };
  describe(): string[];
  close(): Promise<void>;
}

/**
 * The demo hall's entrance: a Modbus TCP gate and a scanner on a PTY pair. With
 * `visitorEverySeconds`, a simulated visitor is measured and scans a code at that pace (mostly
 * green and well; now and then a fever or a yellow or red code, so the demo shows refusals).
 */
export async function startGateSimulators(options: { visitorEverySeconds?: number; random?: () => number } = {}): Promise<GateSimulators> {
  const gate = await GateSimulator.tcp();
  let pty: PtyPair | undefined;
  let scanner: ScannerSimulator | undefined;
  try {
    pty = await openPtyPair();
    scanner = await ScannerSimulator.open(pty.b);
  } catch (error) {
    await scanner?.close();
    await pty?.close();
    await gate.close();
    throw error;
  }
  const random = options.random ?? Math.random;
  const timers = new Set<NodeJS.Timeout>();
  const visit = (): void => {
    const feverish = random() < 0.05;
    gate.measure(feverish ? 37.6 + Math.round(random() * 10) / 10 : 36.2 + Math.round(random() * 8) / 10);
    const roll = random();
    const code = roll < 0.9 ? 'G' : roll < 0.96 ? 'Y' : 'R';
    const later = setTimeout(() => {
      timers.delete(later);
      void scanner?.scan(`HC:${code}:demo-${Math.floor(random() * 1e6)}`).catch(() => undefined);
      const leave = setTimeout(() => {
        timers.delete(leave);
        gate.setPresence(false);
      }, 1500);
      timers.add(leave);
    }, 800);
    timers.add(later);
  };
  const interval = options.visitorEverySeconds ? setInterval(visit, options.visitorEverySeconds * 1000) : undefined;
  const ptyPair = pty;
  const scannerSim = scanner;
  return {
    gate,
    scanner: scannerSim,
    deviceOptions: { modbus: { tcp: gate.address }, scanner: { port: ptyPair.a } },
    describe: () => [`health gate: Modbus TCP ${gate.address}, health-code scanner on ${ptyPair.a}`],
    close: async () => {
      if (interval) clearInterval(interval);
      for (const timer of timers) clearTimeout(timer);
      await scannerSim.close();
      await ptyPair.close();
      await gate.close();
    },
  };
}
