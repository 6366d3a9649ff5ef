/**
 * What-if simulation speed: one 2,000-ticket day of the demo hall (32 windows, six services,
 * policy-day profile) on the real QueueEngine and statistics, and a 20-variant sweep (24..43
 * windows) of the 1,404-ticket policy day. Targets and rules, fixed before measuring:
 *   - day: the median of 7 runs, after 2 warm-up runs, ≤ 100 ms;
 *   - sweep: the median of 3 whole sweeps (20 variants, same visitors), ≤ 3 s.
 *
 *   node dist/bench/sim-bench.js
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig, toQueueModel } from '../src/config/load.js';
import { deviceKindSchemas } from '../src/cli/device-schemas.js';
import { planSimulation } from '../src/sim/plan.js';
import { simulateDay } from '../src/sim/simulator.js';
import { runSweep } from '../src/sim/sweep.js';

export interface SimBenchResult {
  bench: 'sim';
  /** `cpuMedianMs`: the process's CPU time per run (user + system), for context on a shared box; the target is judged on wall time. */
  day: { tickets: number; events: number; runsMs: number[]; medianMs: number; cpuMedianMs: number; targetMs: number; met: boolean };
  sweep: { variants: number; tickets: number; runsMs: number[]; medianMs: number; targetMs: number; met: boolean };
}

const DAY_TARGET_MS = 100;
const SWEEP_TARGET_MS = 3000;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round1 = (x: number): number => Math.round(x * 10) / 10;

export function run(): SimBenchResult {
  const config = loadConfig(fileURLToPath(new URL('../../config/demo-hall.yaml', import.meta.url)), { deviceKinds: deviceKindSchemas() });
  const demo = toQueueModel(config);
  // Without the demo's daily caps (600 social security, 500 medical), so all 2,000 are issued and served.
  const model = { ...demo, services: demo.services.map(({ dailyCap: _cap, ...service }) => service) };

  const dayPlan = planSimulation(model, { tickets: 2000, profile: 'policy-day', seed: 11 });
  const day = dayPlan.days[0]!;
  const staffing = day.staffing(model);
  let events = 0;
  const dayRuns: number[] = [];
  const dayCpu: number[] = [];
  for (let i = 0; i < 9; i += 1) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = simulateDay({ model, date: day.date, visitors: day.visitors, staffing });
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (i >= 2) dayCpu.push(round1((used.user + used.system) / 1000));
    events = result.events;
    if (result.tickets.length !== 2000) throw new Error(`sim bench: ${result.tickets.length} tickets issued, not 2000`);
    if (i >= 2) dayRuns.push(round1(ms));
  }

  const sweepPlan = planSimulation(demo, { tickets: 1404, profile: 'policy-day', windows: '24..43', seed: 1 });
  const sweepRuns: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const result = runSweep({ variants: sweepPlan.variants, days: sweepPlan.days, targetP90Minutes: 20, now: () => performance.now() });
    if (result.variants.length !== 20) throw new Error(`sim bench: ${result.variants.length} variants, not 20`);
    sweepRuns.push(Math.round(result.elapsedMs));
  }
  const dayMedian = median(dayRuns);
  const sweepMedian = median(sweepRuns);
  return {
    bench: 'sim',
    day: { tickets: 2000, events, runsMs: dayRuns, medianMs: dayMedian, cpuMedianMs: median(dayCpu), targetMs: DAY_TARGET_MS, met: dayMedian <= DAY_TARGET_MS },
    sweep: { variants: 20, tickets: 1404, runsMs: sweepRuns, medianMs: sweepMedian, targetMs: SWEEP_TARGET_MS, met: sweepMedian <= SWEEP_TARGET_MS },
  };
}

export function describe(r: SimBenchResult): string[] {
  return [
    `sim: a ${r.day.tickets}-ticket day (${r.day.events} events): median ${r.day.medianMs} ms of ${r.day.runsMs.length} runs — target ≤ ${r.day.targetMs} ms: ${r.day.met ? 'met' : 'MISSED'} (runs ${r.day.runsMs.join(', ')}; CPU time per run, median ${r.day.cpuMedianMs} ms)`,
    `sim: a ${r.sweep.variants}-variant sweep of a ${r.sweep.tickets}-ticket day: median ${r.sweep.medianMs} ms of ${r.sweep.runsMs.length} — target ≤ ${r.sweep.targetMs} ms: ${r.sweep.met ? 'met' : 'MISSED'} (runs ${r.sweep.runsMs.join(', ')})`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify({ bench: { sim: result } }));
}
