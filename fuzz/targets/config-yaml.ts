import fc from 'fast-check';
import { parse as parseYamlValue, stringify } from 'yaml';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { ConfigError, parseConfig, parseConfigDocument } from '../../src/config/load.js';
import { parseYaml } from '../../src/config/yaml-source.js';
import { readRepoText } from '../corpus.js';
import { mutateBytes, mutateJsonLeaf, randomBytes } from '../mutate.js';
import type { Rng } from '../rng.js';
import { jsonish, leafPool } from '../structured.js';
import { equalJson, PropertyViolation, type FuzzTarget, type RunResult } from '../target.js';
import { SLOW_INPUT_MS } from '../engine.js';

/**
 * The hall's YAML config: text → parseConfig (YAML syntax, schema, cross-checks, device options).
 * ConfigError is the loader's refusal. An accepted config written back as YAML loads to the same
 * config. A full-size config costs a few milliseconds to load (the yaml package and the schema),
 * so most inputs are mutations of a small valid config and only some of the shipped examples.
 *
 * Two kinds of input: YAML text (byte mutations, random bytes, YAML tricks: the yaml package and
 * everything after it), and documents — the data a YAML file parses to, with one leaf replaced —
 * fed to parseConfigDocument, the second half of parseConfig. Writing each mutated document out
 * as YAML and parsing it again cost 5-10x what checking the document does, and tested the yaml
 * package's writer more than our schema; the round trip of every accepted document still does.
 */
export type ConfigInput = { text: string } | { document: unknown };

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

/**
 * The smallest valid config, in flow style. The yaml package reads about a byte a microsecond,
 * so the size of the seeds sets the cost of most inputs; this one also brings flow collections.
 */
const TINY = `hall: {id: h, name: {zh: 厅, en: H}, timeZone: UTC, openingHours: {open: "08:00", close: "24:00"}}
services: [{id: s, prefix: A, name: {zh: 综, en: S}}]
windows: [{id: w, number: 1, skills: [s]}]
users: [{username: u, role: admin, passwordHash: "scrypt$16384$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=="}]
`;

const fullExamples = ['config/example-hall.yaml', 'config/demo-hall.yaml'].map(readRepoText);
const smallSeeds = [Buffer.from(SMALL, 'utf8'), Buffer.from(TINY, 'utf8')];
const fullSeeds = fullExamples.map((text) => Buffer.from(text, 'utf8'));
const smallDocuments = [SMALL, TINY].map((text) => parseYamlValue(text) as unknown);
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

const FILE = '/nonexistent/hall.yaml';
const smallMutation = { interesting: INTERESTING, maxLength: 4096 };
const fullMutation = { interesting: INTERESTING, maxLength: 12_000 };
const text = (value: string): ConfigInput => ({ text: value });

function mutatedDocument(): (rng: Rng) => unknown {
  const leaves = leafPool(fc.oneof(jsonish, fc.constantFrom('09:00', '24:00', '25:61', 'mon', 'xyz', -1, 0, 65, 1e9, null, [], {})));
  return (rng) => {
    let document = mutateJsonLeaf(rng, rng.chance(0.97) ? rng.pick(smallDocuments) : rng.pick(fullDocuments), () => leaves(rng));
    // Now and then a second field goes wrong too: the loader must list both, not stop at one.
    if (rng.chance(0.2)) document = mutateJsonLeaf(rng, document, () => leaves(rng));
    return document;
  };
}

export const configYaml: FuzzTarget<ConfigInput> = {
  name: 'config-yaml',
  parser: 'src/config parseConfig (yaml-source.ts, schema.ts, cross-checks, device options)',
  sources: [
    { name: 'mutated small config', weight: 80, next: (rng) => text(mutateBytes(rng, smallSeeds, smallMutation).toString('utf8')) },
    // A whole shipped config is 5-9 KB (a few ms to load, 30x a small one): one input in 360.
    { name: 'mutated full config', weight: 1, next: (rng) => text(mutateBytes(rng, fullSeeds, fullMutation).toString('utf8')) },
    { name: 'random bytes', weight: 60, next: (rng) => text(randomBytes(rng, 200, INTERESTING).toString('utf8')) },
    { name: 'mutated document', weight: 200, next: (() => { const next = mutatedDocument(); return (rng: Rng) => ({ document: next(rng) }); })() },
    // The same documents written as YAML, so the yaml package reads what its own writer makes.
    { name: 'mutated document as YAML', weight: 8, next: (() => { const next = mutatedDocument(); return (rng: Rng) => text(stringify(next(rng))); })() },
    { name: 'yaml tricks', weight: 12, next: (rng) => text(rng.pick(yamlTricks)(rng)) },
  ],
  run(input): RunResult {
    let config;
    try {
      config = 'text' in input ? parseConfig(input.text, FILE, { deviceKinds: kinds }) : parseConfigDocument(input.document, FILE, { deviceKinds: kinds });
    } catch (err) {
      if (err instanceof ConfigError) {
        if (err.problems.length === 0) throw new PropertyViolation('ConfigError without a problem');
        return 'refused';
      }
      throw err;
    }
    return { verdict: 'accepted', verify: () => checkRoundTrip(input, config) };
  },
  // A config file is read once, at start; a whole one (the demo hall's is 9 KB) takes ~5 ms on an
  // idle core. The 10 ms limit applies per 4 KB of config: proportional, never superlinear.
  // (Asked only of inputs over 10 ms, so measuring a document's size costs nothing per input.)
  slowLimitMs: (input) => Math.max(SLOW_INPUT_MS, (SLOW_INPUT_MS * ('text' in input ? Buffer.byteLength(input.text) : Buffer.byteLength(JSON.stringify(input.document) ?? ''))) / 4096),
  // ~10x a wire parser per input: `npm run fuzz` runs it as two processes of half the inputs.
  shards: 2,
  toJson: (input) => input,
  fromJson: (json) => {
    const input = json as Partial<{ text: unknown; document: unknown }>;
    if (typeof input.text === 'string') return { text: input.text };
    if ('document' in input) return { document: input.document };
    throw new Error('a config-yaml vector holds { text } or { document }');
  },
};

/**
 * There is no config encoder (the schema fills defaults and reshapes), so the round trip is the
 * document's: the same data written out again by the yaml package loads to the same config.
 */
function checkRoundTrip(input: ConfigInput, config: unknown): void {
  let document: unknown;
  if ('text' in input) {
    const parsed = parseYaml(input.text);
    if (!parsed.ok) throw new PropertyViolation('parseConfig accepted text that parseYaml refuses');
    document = parsed.value;
  } else {
    document = input.document;
  }
  let again;
  try {
    again = parseConfig(stringify(document, { aliasDuplicateObjects: false }), FILE, { deviceKinds: kinds });
  } catch (err) {
    throw new PropertyViolation(`accepted config, written out again, is refused: ${(err as Error).message}`);
  }
  if (!equalJson(again, config)) throw new PropertyViolation('accepted config, written out again, loads differently');
}
