import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fork } from 'node:child_process';
import type { TargetReport } from './engine.js';
import { saveRegressions } from './regressions.js';
import { formatReport, mergeShards, summarise } from './report.js';
import { TARGETS } from './targets/index.js';

/**
 * npm run fuzz [-- --inputs N] [--seed S] [--jobs J] [--only a,b]
 * Fuzzes every outside-facing parser (fuzz/targets), two processes at a time (one target, or one
 * shard of the config target, each); prints per target
 * inputs, refusals, accepted, slowest input, peak heap, then one JSON line. Any failure is saved
 * under fuzz/regressions/ and makes the exit code 1.
 */
function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const inputs = Number(option('inputs') ?? 1_000_000);
const seed = Number(option('seed') ?? Date.now() % 1_000_000_000);
const jobs = Math.max(1, Number(option('jobs') ?? Math.min(2, availableParallelism())));
const only = option('only')?.split(',');
const targets = TARGETS.filter((t) => !only || only.includes(t.name)).map((t) => t.name);
if (targets.length === 0) throw new Error(`no targets match ${only?.join(',')}`);

console.log(`fuzz: ${targets.length} targets × ${inputs} inputs, seed ${seed}, ${jobs} at a time`);
const started = performance.now();
const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

function runInChild(name: string, shardInputs: number, shardSeed: number): Promise<TargetReport> {
  return new Promise((resolve, reject) => {
    const child = fork(workerFile, [name, String(shardInputs), String(shardSeed)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let report: TargetReport | undefined;
    child.on('message', (message: { progress?: number; line?: string; report?: TargetReport }) => {
      if (message.report) report = message.report;
      else if (message.progress && message.progress % 250_000 === 0) console.log(`  ${name}: ${message.line ?? `${message.progress} inputs`}`);
    });
    child.on('error', reject);
    child.on('exit', (code) => (report ? resolve(report) : reject(new Error(`fuzz process for ${name} exited ${code} without a report`))));
  });
}

/**
 * The work, as processes to run: a target with `shards` (the config loader, ~10x a wire parser
 * per input) is split into that many processes of its inputs, each with a seed of its own, so the
 * two cores finish together rather than one waiting on the config target alone.
 */
const queue = targets.flatMap((name, i) => {
  const shards = Math.max(1, Math.min(TARGETS.find((t) => t.name === name)?.shards ?? 1, jobs));
  return Array.from({ length: shards }, (_, shard) => ({
    name,
    shards,
    inputs: Math.floor(inputs / shards) + (shard < inputs % shards ? 1 : 0),
    seed: seed + i + 1000 * shard,
  }));
});
const shardReports = new Map<string, TargetReport[]>();
const reports: TargetReport[] = [];
let saved: string[] = [];
const crashed: string[] = [];
await Promise.all(
  Array.from({ length: jobs }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      let report: TargetReport;
      try {
        report = await runInChild(next.name, next.inputs, next.seed);
      } catch (err) {
        // A target process that died (out of memory, its modules swapped under it) fails the run but not the others.
        console.log(`${next.name}: ${(err as Error).message}`);
        crashed.push(next.name);
        continue;
      }
      saved = saved.concat(saveRegressions(report.target, next.seed, report.failures));
      const done = [...(shardReports.get(next.name) ?? []), report];
      shardReports.set(next.name, done);
      if (done.length < next.shards) {
        console.log(`  ${next.name}: one of ${next.shards} processes done, ${report.inputs} inputs in ${report.seconds.toFixed(0)} s`);
        continue;
      }
      const merged = mergeShards(done);
      reports.push(merged);
      console.log(formatReport(merged));
    }
  }),
);

reports.sort((a, b) => targets.indexOf(a.target) - targets.indexOf(b.target));
const failures = reports.reduce((n, r) => n + r.failures.length, 0) + crashed.length;
const seconds = (performance.now() - started) / 1000;
for (const path of saved) console.log(`saved regression vector ${path}`);
console.log(`fuzz: ${reports.reduce((n, r) => n + r.inputs, 0)} inputs in ${seconds.toFixed(0)} s, ${failures} failure(s)`);
console.log(JSON.stringify({ fuzz: { seed, inputsPerTarget: inputs, seconds: Number(seconds.toFixed(1)), failures, crashed, node: process.version, targets: reports.map(summarise) } }));
process.exitCode = failures > 0 ? 1 : 0;
