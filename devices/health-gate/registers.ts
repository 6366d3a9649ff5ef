import { z } from 'zod';

/**
 * Where a gate model keeps its readings. The default is the map in
 * firmware-protocols/health-gate.md; a hall with another model overrides addresses, scale and
 * status bits in config instead of changing code.
 */
export const registerMapSchema = z.strictObject({
  /** Input register: body temperature, signed, in `temperatureScale` °C per count. */
  bodyTemperature: z.number().int().min(0).max(65535).default(0),
  /** Input register: ambient temperature, same scale; null when the model has none. */
  ambientTemperature: z.number().int().min(0).max(65535).nullable().default(1),
  /** Input register: status bits. */
  status: z.number().int().min(0).max(65535).default(2),
  /** Input register: increments once per finished measurement (wraps at 65536). */
  sequence: z.number().int().min(0).max(65535).default(3),
  temperatureScale: z.number().positive().default(0.1),
  bits: z
    .strictObject({
      presence: z.number().int().min(0).max(15).default(0),
      measuring: z.number().int().min(0).max(15).default(1),
      sensorFault: z.number().int().min(0).max(15).default(2),
      outOfRange: z.number().int().min(0).max(15).default(3),
    })
    .prefault({}),
  /** Holding register: fever threshold in `temperatureScale` units (373 = 37.3 °C); null: not written. */
  feverThreshold: z.number().int().min(0).max(65535).nullable().default(10),
  /** Holding register: signed compensation offset; informational, the device applies it. */
  compensation: z.number().int().min(0).max(65535).nullable().default(11),
  /** Coil pulsed to open the turnstile. */
  gateCoil: z.number().int().min(0).max(65535).default(0),
  /** Coil that sounds the alarm while on. */
  alarmCoil: z.number().int().min(0).max(65535).default(1),
});

export type RegisterMap = z.infer<typeof registerMapSchema>;

export const DEFAULT_REGISTER_MAP: RegisterMap = registerMapSchema.parse({});

export interface SensorStatus {
  presence: boolean;
  measuring: boolean;
  sensorFault: boolean;
  outOfRange: boolean;
}

/** One poll of the sensor, decoded. */
export interface SensorSample {
  /** °C, one decimal. */
  bodyTemperature: number;
  ambientTemperature?: number;
  status: SensorStatus;
  sequence: number;
}

/** The contiguous block of input registers one poll reads (one FC4 request, not four). */
export function inputBlock(map: RegisterMap): { start: number; length: number } {
  const addresses = [map.bodyTemperature, map.status, map.sequence];
  if (map.ambientTemperature !== null) addresses.push(map.ambientTemperature);
  const start = Math.min(...addresses);
  const length = Math.max(...addresses) - start + 1;
  if (length > 125) throw new Error(`health-gate register map spans ${length} input registers; one Modbus read takes at most 125`);
  return { start, length };
}

function signed16(value: number): number {
  return value >= 0x8000 ? value - 0x10000 : value;
}

function roundTenth(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A register read that cannot be a sample (too short): the gate's answer is refused, not guessed at. */
export class RegisterBlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegisterBlockError';
  }
}

/** Decodes one read of `inputBlock(map)`. Throws RegisterBlockError when the block is shorter than the map needs. */
export function decodeSample(map: RegisterMap, block: readonly number[]): SensorSample {
  const { start, length } = inputBlock(map);
  if (block.length < length) throw new RegisterBlockError(`expected ${length} input registers, got ${block.length}`);
  const at = (address: number): number => block[address - start] ?? 0;
  const statusWord = at(map.status);
  const bit = (n: number): boolean => ((statusWord >> n) & 1) === 1;
  const sample: SensorSample = {
    bodyTemperature: roundTenth(signed16(at(map.bodyTemperature)) * map.temperatureScale),
    status: {
      presence: bit(map.bits.presence),
      measuring: bit(map.bits.measuring),
      sensorFault: bit(map.bits.sensorFault),
      outOfRange: bit(map.bits.outOfRange),
    },
    sequence: at(map.sequence),
  };
  if (map.ambientTemperature !== null) sample.ambientTemperature = roundTenth(signed16(at(map.ambientTemperature)) * map.temperatureScale);
  return sample;
}

/** °C → register counts for the fever-threshold holding register. */
export function encodeTemperature(map: RegisterMap, celsius: number): number {
  const counts = Math.round(celsius / map.temperatureScale);
  return counts < 0 ? counts + 0x10000 : counts & 0xffff;
}

/** Builds a status word (simulator and test vectors). */
export function encodeStatus(map: RegisterMap, status: Partial<SensorStatus>): number {
  let word = 0;
  if (status.presence) word |= 1 << map.bits.presence;
  if (status.measuring) word |= 1 << map.bits.measuring;
  if (status.sensorFault) word |= 1 << map.bits.sensorFault;
  if (status.outOfRange) word |= 1 << map.bits.outOfRange;
  return word;
}
