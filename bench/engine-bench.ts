/**
 * The queue engine alone, no I/O: decide+apply of one call-next with 2000 tickets waiting across
 * 6 services and 32 windows with mixed skills, and the replay of a busy day (~15000 events) into
 * a fresh engine, which is what a restart costs before the journal read.
 *
 *   node dist/bench/engine-bench.js
 */
import { pathToFileURL } from 'node:url';
import { QueueEngine } from '../src/queue/engine.js';
import type { QueueModel, ServiceDef, WindowDef } from '../src/queue/model.js';
import { benchModel, simulateDay } from './journal-bench.js';
import { figures, formatFigures, roundMs, type Figures } from './stats.js';

export interface EngineBenchResult {
  bench: 'engine';
  waiting: number;
  services: number;
  windows: number;
  /** decide+apply of call-next, in microseconds. */
  callNextUs: Figures;
  replayEvents: number;
  /** Replay of the whole day into a fresh engine, ms; median and best of the runs. */
  replayMs: { runs: number; median: number; best: number };
}

const WAITING = 2000;
const CALLS = 3000;
const REPLAY_RUNS = 7;

/** The engine bench's hall (6 services, mixed windows); the notice-plan bench measures on it too. */
export function model(): QueueModel {
  const base = benchModel();
  const services: ServiceDef[] = base.services.slice(0, 6);
  // Comprehensive windows take everything (weighted), every fourth is specialised in one service.
  const windows = base.windows.map((w, i): WindowDef =>
    i % 4 === 3
      ? { ...w, skills: [{ serviceId: services[i % 6]!.id, weight: 1 }], skillMode: 'preference' as const }
      : { ...w, skills: services.map((s, k) => ({ serviceId: s.id, weight: 6 - k })) },
  );
  return { ...base, services, windows };
}

export function run(): EngineBenchResult {
  const m = model();
  const engine = new QueueEngine(m);
  let now = Date.UTC(2026, 10, 23, 1, 0, 0);
  for (const w of m.windows) engine.run({ type: 'login', windowId: w.id, staffId: `staff-${w.number}` }, now);
  let n = 0;
  const issue = () => engine.run({ type: 'issue', serviceId: m.services[n++ % m.services.length]!.id, channel: 'kiosk', priority: n % 20 === 0 }, now);
  for (let i = 0; i < WAITING; i++) issue();

  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const windowId = m.windows[i % m.windows.length]!.id;
    now += 1000;
    const start = process.hrtime.bigint();
    engine.run({ type: 'call-next', windowId }, now);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
    issue(); // keep the queue at 2000 waiting (untimed)
  }
  const waitingAfter = m.services.reduce((sum, s) => sum + engine.waiting(s.id).length, 0);
  if (waitingAfter < WAITING - 1) throw new Error(`engine bench: only ${waitingAfter} tickets waiting at the end`);

  const day = simulateDay(benchModel());
  const replays: number[] = [];
  for (let r = 0; r < REPLAY_RUNS; r++) {
    const start = process.hrtime.bigint();
    const fresh = new QueueEngine(benchModel());
    for (const event of day) fresh.apply(event);
    replays.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (fresh.servedToday() === 0) throw new Error('engine bench: the replayed day served nobody');
  }
  replays.sort((a, b) => a - b);

  return {
    bench: 'engine',
    waiting: WAITING,
    services: m.services.length,
    windows: m.windows.length,
    callNextUs: figures(times.slice(m.windows.length)), // the first round warms the JIT up
    replayEvents: day.length,
    replayMs: { runs: REPLAY_RUNS, median: roundMs(replays[Math.floor(REPLAY_RUNS / 2)]!), best: roundMs(replays[0]!) },
  };
}

export function describe(r: EngineBenchResult): string[] {
  return [
    `queue engine: call-next decide+apply with ${r.waiting} waiting, ${r.services} services, ${r.windows} windows: ${formatFigures(r.callNextUs, 'µs')}`,
    `queue engine: replay of a ${r.replayEvents}-event day: median ${r.replayMs.median} ms, best ${r.replayMs.best} ms (${r.replayMs.runs} runs)`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
