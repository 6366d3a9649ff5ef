import { decodeSample, DEFAULT_REGISTER_MAP, encodeStatus, encodeTemperature, inputBlock, RegisterBlockError, registerMapSchema, type RegisterMap } from '../../devices/health-gate/registers.js';
import { readVectors } from '../corpus.js';
import type { Rng } from '../rng.js';
import { PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * The health gate's Modbus input registers (one FC4 read of inputBlock(map)), decoded with the
 * default register map and with maps a hall may configure: what we do with the words the RTU and
 * TCP lines hand over (the TCP framer has its own target, modbus-tcp-answers.ts; both framers are
 * unit-tested in devices/health-gate/codec.test.ts).
 */
interface Input {
  map: RegisterMap;
  block: number[];
}

interface Vectors {
  samples: Array<{ inputRegisters: number[] }>;
}

const seeds = readVectors<Vectors>('health-gate').samples.map((s) => s.inputRegisters);
const INTERESTING = [0, 1, 0x7fff, 0x8000, 0xffff, 373, 374, 235, 0x000f, 0x00ff, 0xfffe];

function randomMap(rng: Rng): RegisterMap {
  if (rng.chance(0.6)) return DEFAULT_REGISTER_MAP;
  const address = () => rng.below(24);
  return registerMapSchema.parse({
    bodyTemperature: address(),
    ambientTemperature: rng.chance(0.3) ? null : address(),
    status: address(),
    sequence: address(),
    temperatureScale: rng.pick([0.1, 0.01, 0.5, 1, 1e-9, 1e6]),
    bits: { presence: rng.below(16), measuring: rng.below(16), sensorFault: rng.below(16), outOfRange: rng.below(16) },
  });
}

function word(rng: Rng): number {
  return rng.chance(0.3) ? rng.pick(INTERESTING) : rng.below(0x10000);
}

function blockFor(rng: Rng, map: RegisterMap, from?: number[]): number[] {
  const { length } = inputBlock(map);
  const size = Math.max(0, length + rng.pick([0, 0, 0, -1, -length, 1, 3]));
  return Array.from({ length: size }, (_, i) => (from && i < from.length && rng.chance(0.7) ? from[i]! : word(rng)));
}

export const gateRegisters: FuzzTarget<Input> = {
  name: 'gate-registers',
  parser: 'devices/health-gate/registers.ts decodeSample',
  sources: [
    {
      name: 'mutated vectors',
      weight: 3,
      next: (rng) => ({ map: DEFAULT_REGISTER_MAP, block: blockFor(rng, DEFAULT_REGISTER_MAP, rng.pick(seeds)) }),
    },
    { name: 'random words', weight: 3, next: (rng) => ({ map: DEFAULT_REGISTER_MAP, block: blockFor(rng, DEFAULT_REGISTER_MAP) }) },
    {
      name: 'structured',
      weight: 3,
      next: (rng) => {
        const map = randomMap(rng);
        return { map, block: blockFor(rng, map) };
      },
    },
  ],
  run({ map, block }): Verdict {
    let sample;
    try {
      sample = decodeSample(map, block);
    } catch (err) {
      if (err instanceof RegisterBlockError) return 'refused';
      throw err;
    }
    const { start } = inputBlock(map);
    const at = (address: number) => block[address - start]!;
    if (!Number.isFinite(sample.bodyTemperature)) throw new PropertyViolation(`body temperature ${sample.bodyTemperature}`);
    if (sample.sequence !== at(map.sequence)) throw new PropertyViolation('sequence is not the register as read');
    // Re-encode the status bits: the word built from them has the same mapped bits as the register.
    const mask = encodeStatus(map, { presence: true, measuring: true, sensorFault: true, outOfRange: true });
    if ((encodeStatus(map, sample.status) & mask) !== (at(map.status) & mask)) throw new PropertyViolation('status bits do not survive re-encoding');
    // With the documented scale (0.1 °C per count) a reading is exact: it encodes back to its register.
    if (map.temperatureScale === 0.1 && encodeTemperature(map, sample.bodyTemperature) !== at(map.bodyTemperature)) {
      throw new PropertyViolation(`body temperature ${sample.bodyTemperature} encodes to ${encodeTemperature(map, sample.bodyTemperature)}, register was ${at(map.bodyTemperature)}`);
    }
    return 'accepted';
  },
  toJson: (input) => input,
  fromJson: (json) => {
    const { map, block } = json as { map: unknown; block: number[] };
    return { map: registerMapSchema.parse(map), block };
  },
};
