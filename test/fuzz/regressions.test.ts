import { describe, expect, it } from 'vitest';
import { replay } from '../../fuzz/engine.js';
import { loadRegressions } from '../../fuzz/regressions.js';
import { targetByName } from '../../fuzz/targets/index.js';
import { parseConfig, ConfigError } from '../../src/config/load.js';
import { MAX_FLOW_DEPTH } from '../../src/config/yaml-source.js';
import { createScanClassifier, scanRuleSchema } from '../../devices/health-gate/scan-rules.js';

/**
 * Every input the fuzzer ever failed on (fuzz/regressions/<target>/*.json), replayed: it must now
 * give the parser's verdict (accepted or a typed refusal) without throwing or breaking a property.
 */
const vectors = loadRegressions();


/** The config loader's refusal of `text` (a test fails if it accepts it or throws anything else). */
function refusalOf(text: string): ConfigError {
  try {
    parseConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('the config was accepted');
}

describe('fuzz regression vectors', () => {
  it('are there to replay (the folder ships with the inputs the fuzzer found)', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });
  for (const { file, vector } of vectors) {
    it(`${file} (${vector.kind}: ${vector.found.slice(0, 80)})`, () => {
      const target = targetByName(vector.target);
      expect(target, `no fuzz target ${vector.target}`).toBeDefined();
      const { verdict } = replay(target!, vector.input);
      expect(['accepted', 'refused']).toContain(verdict);
    });
  }
});

describe('bugs the fuzzer found', () => {
  it('scanner: a token named like an Object.prototype member is no colour (a rule map gave back a function)', () => {
    const classifier = createScanClassifier([scanRuleSchema.parse({ match: '^HC:(\\w+):', map: { G: 'green' } })]);
    for (const token of ['valueOf', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(classifier.classify(`HC:${token}:1`)).toMatchObject({ readable: false, reason: 'unknown-colour' });
    }
    expect(classifier.classify('HC:G:1')).toEqual({ readable: true, colour: 'green' });
  });

  it('config: deeply nested [ ] is refused up front with a line number, not handed to the yaml package (20+ ms per 1000 levels)', () => {
    const text = `hall:\n  id: h1\ndevices: ${'['.repeat(2000)}\n`;
    expect(refusalOf(text).problems).toEqual([`line 3: [ ] and { } nested more than ${MAX_FLOW_DEPTH} deep; a hall config needs a few levels`]);
  });

  it('config: a window with an empty skill and no schedule is a listed problem, not a TypeError from the cross-checks', () => {
    const text = [
      'hall: { id: h1, name: { zh: 大厅, en: Hall }, timeZone: Asia/Shanghai, openingHours: { open: "09:00", close: "17:00" } }',
      'services: [{ id: general, prefix: A, name: { zh: 综合, en: General } }]',
      'windows:',
      '  - { id: w1, number: 1, skills: [general] }',
      '  - { id: w2, number: 2, skills: [""] }',
      'users: [{ username: op, role: operator, passwordHash: "scrypt$16384$8$1$aHgav6r2vI95XFms8etg6g==$gyfGpGZl64zRr+Xpj0ddcqGVbTT2Qraz2wzgaWHHN9A=" }]',
    ].join('\n');
    expect(refusalOf(text).problems.join('\n')).toContain('windows[1].skills[0]');
  });

  it('config: brackets inside quoted scalars and comments do not count as nesting', () => {
    const text = `hall:\n  id: "${'['.repeat(100)}" # ${'{'.repeat(100)}\n  name: 'it''s ${'['.repeat(100)}'\n`;
    expect(refusalOf(text).problems.join('\n')).not.toContain('nested more than');
  });
});
