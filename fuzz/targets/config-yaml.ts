import fc from 'fast-check';
import { parse as parseYamlValue, stringify } from 'yaml';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { parseYaml } from '../../src/config/yaml-source.js';
import { readRepoText } from '../corpus.js';
import { mutateBytes, mutateJsonLeaf, randomBytes } from '../mutate.js';
import type { Rng } from '../rng.js';
import { fromArbitrary, jsonish } from '../structured.js';
import { equalJson, PropertyViolation, type FuzzTarget, type RunResult } from '../target.js';

/**
 * The hall's YAML config: text → parseConfig (YAML syntax, schema, cross-checks, device options).
 * ConfigError is the loader's refusal. An accepted config written back as YAML loads to the same
 * config. A full-size config costs a few milliseconds to load (the yaml package and the schema),
 * so most inputs are mutations of a small valid config and only some of the shipped examples.
 */
const SMALL = `hall:
  id: h1
  name: { zh: 大厅, en: Hall }
  timeZone: Asia/Shanghai
  dayStartsAt: "04:00"
  openDays: [mon, tue]
  openingHours: { open: "09:00", close: "17:00" }
services:
  - { id: general, prefix: A, name: { zh: 综合, en: General } }
windows:
  - { id: w1, number: 1, skills: [general], schedule: ["09:00-12:00"] }
users:
  - { username: op, role: operator, passwordHash: "scrypt$16384$8$1$aHgav6r2vI95XFms8etg6g==$gyfGpGZl64zRr+Xpj0ddcqGVbTT2Qraz2wzgaWHHN9A=" }
stateDir: /var/lib/hall-edge
devices: []
`;

const fullExamples = ['config/example-hall.yaml', 'config/demo-hall.yaml'].map(readRepoText);
const smallSeeds = [Buffer.from(SMALL, 'utf8')];
const fullSeeds = fullExamples.map((text) => Buffer.from(text, 'utf8'));
const smallDocument = parseYamlValue(SMALL) as unknown;
const fullDocuments = fullExamples.map((text) => parseYamlValue(text) as unknown);
const kinds = deviceKindSchemas();
// ':' '-' '#' '&' '*' '!' '|' '>' '{' '}' '[' ']' '"' "'" '%' '@' '`' tab LF, and a space.
const INTERESTING = [0x3a, 0x2d, 0x23, 0x26, 0x2a, 0x21, 0x7c, 0x3e, 0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x27, 0x25, 0x40, 0x60, 0x09, 0x0a, 0x20];

/** YAML features that have bitten loaders: aliases (billion laughs), merge keys, tags, deep nesting. */
const yamlTricks: Array<(rng: Rng) => string> = [
  (rng) => {
    const levels = 2 + rng.below(8);
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i <= levels; i += 1) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    return `${SMALL}extra: *a${levels}\n`;
  },
  (rng) => SMALL.replace('devices: []', `devices: ${'['.repeat(1 + rng.below(2000))}`),
  () => `${SMALL}base: &base { id: w2, number: 2, skills: [general] }\nmore: { <<: *base, number: 3 }\n`,
  (rng) => SMALL.replace('stateDir: /var/lib/hall-edge', `stateDir: ${rng.pick(['!!binary aGVsbG8=', '!!js/function "f(){}"', '!!timestamp 2026-12-01', '!!set {a, b}', '!!omap [a: 1]', '*undefined', '&a'])}`),
  (rng) => SMALL.replace('id: h1', `id: ${'x'.repeat(rng.below(5000))}`),
  (rng) => SMALL.replace('timeZone: Asia/Shanghai', `timeZone: ${rng.pick(['Mars/Olympus', 'UTC', '+08:00', '""', 'Etc/GMT-14', '../../etc/passwd', 'Asia/Shanghai\u0000'])}`),
  (rng) => `${'  '.repeat(rng.below(50))}${SMALL}`,
  () => `%YAML 1.1\n---\n${SMALL}...\n---\n${SMALL}`,
];

export const configYaml: FuzzTarget<string> = {
  name: 'config-yaml',
  parser: 'src/config parseConfig (yaml-source.ts, schema.ts, cross-checks, device options)',
  sources: [
    { name: 'mutated small config', weight: 30, next: (rng) => mutateBytes(rng, smallSeeds, { interesting: INTERESTING, maxLength: 4096 }).toString('utf8') },
    { name: 'mutated full config', weight: 1, next: (rng) => mutateBytes(rng, fullSeeds, { interesting: INTERESTING, maxLength: 12_000 }).toString('utf8') },
    { name: 'random bytes', weight: 15, next: (rng) => randomBytes(rng, 200, INTERESTING).toString('utf8') },
    {
      name: 'structured',
      weight: 30,
      next: (() => {
        const leaves = fromArbitrary(fc.oneof(jsonish, fc.constantFrom('09:00', '24:00', '25:61', 'mon', 'xyz', -1, 0, 65, 1e9, null, [], {})));
        return (rng) => stringify(mutateJsonLeaf(rng, rng.chance(0.97) ? smallDocument : rng.pick(fullDocuments), () => leaves(rng)));
      })(),
    },
    { name: 'yaml tricks', weight: 10, next: (rng) => rng.pick(yamlTricks)(rng) },
  ],
  run(text): RunResult {
    let config;
    try {
      config = parseConfig(text, '/nonexistent/hall.yaml', { deviceKinds: kinds });
    } catch (err) {
      if (err instanceof ConfigError) {
        if (err.problems.length === 0) throw new PropertyViolation('ConfigError without a problem');
        return 'refused';
      }
      throw err;
    }
    return { verdict: 'accepted', verify: () => checkRoundTrip(text, config) };
  },
  // A config file is read once, at start; a whole one (the demo hall's is 9 KB) takes ~5 ms on an
  // idle core. The 10 ms limit applies per 4 KB of config: proportional, never superlinear.
  slowLimitMs: (text) => Math.max(10, (10 * Buffer.byteLength(text)) / 4096),
  toJson: (text) => ({ text }),
  fromJson: (json) => (json as { text: string }).text,
};

/**
 * There is no config encoder (the schema fills defaults and reshapes), so the round trip is the
 * document's: the same data written out again by the yaml package loads to the same config.
 */
function checkRoundTrip(text: string, config: unknown): void {
    const document = parseYaml(text);
    if (!document.ok) throw new PropertyViolation('parseConfig accepted text that parseYaml refuses');
    let again;
    try {
      again = parseConfig(stringify(document.value, { aliasDuplicateObjects: false }), '/nonexistent/hall.yaml', { deviceKinds: kinds });
    } catch (err) {
      throw new PropertyViolation(`accepted config, written out again, is refused: ${(err as Error).message}`);
    }
    if (!equalJson(again, config)) throw new PropertyViolation('accepted config, written out again, loads differently');
}
