import fc from 'fast-check';
import { createScanClassifier, DEFAULT_SCAN_RULES, HEALTH_COLOURS, MAX_SCAN_LENGTH, scanRuleSchema } from '../../devices/health-gate/scan-rules.js';
import { readVectors } from '../corpus.js';
import { frameLines, SyncLineFramer } from '../framer-adapter.js';
import { mutateBytes, mutateJsonLeaf, randomBytes } from '../mutate.js';
import { fromArbitrary, jsonish, leafPool } from '../structured.js';
import { bytesJson, PropertyViolation, type FuzzTarget, type Verdict } from '../target.js';

/**
 * What a visitor's QR code makes the health-code scanner type: bytes → the scanner port's
 * bounded framer (MAX_SCAN_LENGTH + 2, as devices/health-gate/driver.ts sets it) → UTF-8 → the
 * classifier, with the default rules and with rules a hall might configure (regex and JSON path).
 */
interface Vectors {
  scans: Array<{ line: string }>;
}

const vectors = readVectors<Vectors>('health-gate');
const seedTexts = [
  ...vectors.scans.map((s) => s.line),
  '{"color":"green","name":"张三","id":"3701021990xxxx"}',
  '{"data":{"health":{"colour":"黄码"}}}',
  'https://hc.example.gov.cn/q?c=G&t=1795395900',
  '\uFEFFHC:R:3701021990xxxx\r\n',
];
const seeds = seedTexts.map((t) => Buffer.from(t, 'utf8'));
const FRAMER_LIMIT = MAX_SCAN_LENGTH + 2;

const classifiers = [
  createScanClassifier(DEFAULT_SCAN_RULES),
  createScanClassifier(
    [
      { match: '[?&]c=([GYR])(&|$)', map: { G: 'green', Y: 'yellow', R: 'red' } },
      { match: '^(\\w+)码$' },
      { json: 'data.health.colour', map: { 绿码: 'green', 黄码: 'yellow', 红码: 'red' } },
      { json: 'a.b.c.d.e' },
    ].map((rule) => scanRuleSchema.parse(rule)),
  ),
];

const payloadArbitrary = fc.oneof(
  fc.tuple(fc.constantFrom('G', 'Y', 'R', 'g', '', 'GREEN', 'X'), fc.string({ maxLength: 40 })).map(([c, rest]) => `HC:${c}:${rest}`),
  fc.tuple(fc.constantFrom('color', 'colour', 'data'), fc.oneof(fc.constantFrom('green', 'Yellow ', 'RED', '红码', ''), jsonish)).map(([key, value]) => JSON.stringify({ [key]: value })),
  jsonish.map((value) => JSON.stringify(value) ?? 'null'),
  fc.tuple(fc.string({ maxLength: 8 }), fc.nat({ max: 3000 })).map(([unit, n]) => unit.repeat(Math.ceil(n / Math.max(1, unit.length)))),
  // Deep nesting and long runs: what makes a JSON parser or a regex slow.
  fc.nat({ max: 1100 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.nat({ max: 2040 }).map((n) => `HC:G:${'9'.repeat(n)}`),
);

const structured = fromArbitrary(payloadArbitrary);

export const healthScanner: FuzzTarget<Buffer> = {
  name: 'health-scanner',
  parser: 'devices/health-gate/scan-rules.ts classifier (lines and QR payloads) + line framer',
  sources: [
    { name: 'mutated vectors', weight: 3, next: (rng) => mutateBytes(rng, seeds, { interesting: [0x7b, 0x7d, 0x22, 0x3a, 0x0d, 0x0a, 0xef, 0xbb, 0xbf, 0xe7], maxLength: FRAMER_LIMIT + 8 }) },
    { name: 'random bytes', weight: 2, next: (rng) => randomBytes(rng, 300, [0x7b, 0x22, 0x3a, 0x0a]) },
    { name: 'structured', weight: 3, next: (rng) => Buffer.from(structured(rng), 'utf8') },
    {
      name: 'mutated json',
      weight: 1,
      next: (() => {
        const leaves = leafPool(jsonish);
        const docs = seedTexts.flatMap((t) => {
          try {
            return t.startsWith('{') ? [JSON.parse(t) as unknown] : [];
          } catch {
            return []; // the vectors hold broken JSON on purpose
          }
        });
        return (rng) => Buffer.from(JSON.stringify(mutateJsonLeaf(rng, rng.pick(docs), () => leaves(rng))) ?? '', 'utf8');
      })(),
    },
  ],
  run(bytes): Verdict {
    // The scanner ends each read with CR LF; the framer is fed all of it at once.
    const lines = frameLines(new SyncLineFramer(FRAMER_LIMIT), Buffer.concat([bytes, Buffer.from('\r\n')]), 4096);
    let accepted = false;
    for (const line of lines) {
      if (line.overflow) continue;
      const text = line.bytes.toString('utf8');
      for (const classifier of classifiers) {
        const result = classifier.classify(text);
        if (result.readable) {
          if (!(HEALTH_COLOURS as readonly string[]).includes(result.colour)) throw new PropertyViolation(`classifier returned colour ${String(result.colour)}`);
          accepted = true;
        } else if (result.detail !== undefined && text.length > 8 && result.detail.includes(text)) {
          // Scans are personal data: a refusal's detail (it is logged) must not quote the payload.
          throw new PropertyViolation('refusal detail quotes the scanned payload');
        }
      }
    }
    return accepted ? 'accepted' : 'refused';
  },
  ...bytesJson,
};
