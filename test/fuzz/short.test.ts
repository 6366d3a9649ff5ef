import { describe, expect, it } from 'vitest';
import { runTarget } from '../../fuzz/engine.js';
import { saveRegressions } from '../../fuzz/regressions.js';
import { TARGETS } from '../../fuzz/targets/index.js';

/**
 * The short version of `npm run fuzz` (fuzz/run.ts): every target, 10^4 inputs, in the test
 * suite. A failure is saved as a regression vector like in the full run and fails the test. Time
 * per input is reported by the full run, not asserted here (no timed unit tests): 'slow' findings
 * are left out of this test's verdict; exceptions, broken properties and heap growth are not.
 */
const INPUTS = 10_000;
// A fixed seed per target keeps CI repeatable; the full run draws a new one each time.
const SEED = 20261201;

describe('fuzz targets, short run', () => {
  for (const [i, target] of TARGETS.entries()) {
    it(`${target.name}: ${INPUTS} inputs without an exception, a broken property or heap growth`, { timeout: 600_000 }, async () => {
      const report = await runTarget(target, { inputs: INPUTS, seed: SEED + i });
      const failures = report.failures.filter((f) => f.kind !== 'slow');
      const saved = saveRegressions(target.name, SEED + i, failures);
      expect(report.inputs).toBe(INPUTS);
      expect(failures.map((f) => `${f.kind}: ${f.message}`), `saved: ${saved.join(', ')}`).toEqual([]);
      // Both kinds of outcome happen: a target that refuses everything (or accepts everything) is not exercising the parser.
      expect(report.accepted).toBeGreaterThan(0);
      expect(report.refusals).toBeGreaterThan(0);
    });
  }
});
