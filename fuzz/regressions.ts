import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './corpus.js';
import type { Failure } from './engine.js';

/**
 * A failing input, saved as a regression vector: fuzz/regressions/<target>/<kind>-<hash>.json.
 * test/fuzz/regressions.test.ts replays every file in there with vitest, so a crash once found
 * stays a failing test until the parser is fixed, and a passing one after.
 */
export interface RegressionVector {
  target: string;
  kind: Failure['kind'];
  /** What went wrong when it was found. */
  found: string;
  seed: number;
  source?: string;
  input: unknown;
}

export function regressionsDir(): string {
  return join(repoRoot(), 'fuzz', 'regressions');
}

/** Writes one file per failure that has an input; returns the paths. */
export function saveRegressions(target: string, seed: number, failures: readonly Failure[]): string[] {
  const paths: string[] = [];
  for (const failure of failures) {
    if (failure.input === undefined) continue;
    const vector: RegressionVector = { target, kind: failure.kind, found: failure.message, seed, ...(failure.source ? { source: failure.source } : {}), input: failure.input };
    const hash = createHash('sha256').update(JSON.stringify(failure.input)).digest('hex').slice(0, 12);
    const dir = join(regressionsDir(), target);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${failure.kind}-${hash}.json`);
    writeFileSync(path, `${JSON.stringify(vector, null, 2)}\n`);
    paths.push(path);
  }
  return paths;
}

export function loadRegressions(): Array<{ file: string; vector: RegressionVector }> {
  const root = regressionsDir();
  if (!existsSync(root)) return [];
  const out: Array<{ file: string; vector: RegressionVector }> = [];
  for (const target of readdirSync(root, { withFileTypes: true })) {
    if (!target.isDirectory()) continue;
    for (const file of readdirSync(join(root, target.name))) {
      if (!file.endsWith('.json')) continue;
      const path = join(root, target.name, file);
      out.push({ file: `${target.name}/${file}`, vector: JSON.parse(readFileSync(path, 'utf8')) as RegressionVector });
    }
  }
  return out;
}
