/**
 * Journal benchmark: append latency (one event per transaction, fsynced) and the restart cost
 * of a busy day (3000 tickets, ~15000 events) with 60 past days in the same file.
 *
 *   node dist/bench/journal-bench.js            (temp dir under the OS temp directory)
 *   HALL_EDGE_BENCH_DIR=/var/lib/hall-edge/tmp node dist/bench/journal-bench.js
 *
 * Point HALL_EDGE_BENCH_DIR at the box's real storage: on tmpfs an fsync costs nothing and the
 * append figures say little.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Journal } from '../src/journal/journal.js';
import { silentLogger } from '../src/platform/logger.js';
import { QueueError, type QueueCommand } from '../src/queue/commands.js';
import { QueueEngine } from '../src/queue/engine.js';
import type { HallEvent } from '../src/queue/events.js';
import type { QueueModel, ServiceDef, WindowDef } from '../src/queue/model.js';
import { StatsAccumulator } from '../src/queue/stats.js';

export interface JournalBenchResult {
  bench: 'journal';
  dir: string;
  appendSamples: number;
  appendP50Ms: number;
  appendP99Ms: number;
  appendMaxMs: number;
  pastDays: number;
  todayEvents: number;
  totalEvents: number;
  fileMB: number;
  openMs: number;
  readDayMs: number;
  engineApplyMs: number;
  statsApplyMs: number;
  /** One full DayStats snapshot of the replayed day. */
  statsSnapshotMs: number;
  replayMs: number;
}

const TICKETS = 3000;
const PAST_DAYS = 60;
const APPEND_SAMPLES = 500;
const DAY_MS = 24 * 3600_000;
/** 2026-11-23 08:30 in Shanghai (UTC+8). */
const OPENING = Date.UTC(2026, 10, 23, 0, 30, 0);

export function benchModel(): QueueModel {
  const services: ServiceDef[] = Array.from({ length: 20 }, (_, i) => ({
    id: `s${i}`,
    prefix: String.fromCharCode(65 + i),
    digits: 4,
    name: { zh: `业务${i}`, en: `Service ${i}` },
    averageHandlingMinutes: 6,
  }));
  const windows: WindowDef[] = Array.from({ length: 32 }, (_, i) => ({
    id: `w${i + 1}`,
    number: i + 1,
    name: { zh: `${i + 1}号窗口`, en: `Window ${i + 1}` },
    skills: services.map((s, k) => ({ serviceId: s.id, weight: 20 - k })),
    skillMode: 'weighted',
    priorityWindow: i === 0,
    schedule: [],
  }));
  return {
    hallId: 'bench-hall',
    services,
    windows,
    policy: { recallLimit: 2, priorityServedBy: 'all-windows', priorityGuard: 2, requeuePlace: 'back', appointmentEarlyMinutes: 10, enforceWindowSchedule: false },
    clock: { timeZone: 'Asia/Shanghai', dayStartsAt: 4 * 60, openDays: [0, 1, 2, 3, 4, 5, 6], open: 8 * 60 + 30, close: 17 * 60 + 30 },
  };
}

/** A busy day through the real engine: every ticket issued, called, started, finished and rated. */
export function simulateDay(model: QueueModel): HallEvent[] {
  const engine = new QueueEngine(model);
  const events: HallEvent[] = [];
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const run = (command: QueueCommand, at: number) => {
    try {
      events.push(...engine.run(command, at));
    } catch (err) {
      if (!(err instanceof QueueError)) throw err;
    }
  };
  let now = OPENING;
  for (const window of model.windows) run({ type: 'login', windowId: window.id, staffId: `staff-${window.number}` }, now);
  let issued = 0;
  for (let step = 0; issued < TICKETS || engine.servedToday() < TICKETS; step++) {
    now += 3_000;
    if (issued < TICKETS) {
      run({ type: 'issue', serviceId: model.services[Math.floor(random() * model.services.length)]!.id, channel: 'kiosk', priority: random() < 0.05 }, now);
      issued += 1;
    }
    const window = model.windows[step % model.windows.length]!;
    const current = engine.windowState(window.id)?.current;
    if (current && engine.ticket(current)?.state === 'called') {
      run({ type: 'start', windowId: window.id }, now);
    } else if (current) {
      run({ type: 'finish', windowId: window.id }, now);
      run({ type: 'rate', windowId: window.id, rating: (1 + Math.floor(random() * 5)) as 1 | 2 | 3 | 4 | 5 }, now + 1_000);
      run({ type: 'call-next', windowId: window.id }, now + 2_000);
    } else {
      run({ type: 'call-next', windowId: window.id }, now);
    }
  }
  return events;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;
const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export function run(options: { dir?: string } = {}): JournalBenchResult {
  const base = options.dir ?? process.env.HALL_EDGE_BENCH_DIR ?? tmpdir();
  const dir = mkdtempSync(join(base, 'journal-bench-'));
  const path = join(dir, 'journal.db');
  const log = silentLogger();
  const model = benchModel();
  try {
    const today = simulateDay(model);
    const todayName = today[0]!.day;
    let journal = Journal.open(path, log);

    // 60 past days of the same shape, oldest first, so today's rows come last as they would.
    for (let back = PAST_DAYS; back >= 1; back--) {
      const shift = back * DAY_MS;
      const day = new Date(Date.parse(`${todayName}T00:00:00Z`) - shift).toISOString().slice(0, 10);
      const past = today.map((e) => (e.type === 'ticket.issued' ? { ...e, day, at: e.at - shift, ticket: { ...e.ticket, day, issuedAt: e.ticket.issuedAt - shift } } : { ...e, day, at: e.at - shift }));
      for (let i = 0; i < past.length; i += 5000) journal.append(past.slice(i, i + 5000));
    }
    // Today as the hall writes it: one transaction per command's events would be slower to set
    // up; batches of 50 keep the bench short while the latency is measured separately below.
    for (let i = 0; i < today.length; i += 50) journal.append(today.slice(i, i + 50));

    const latencies: number[] = [];
    const last = today[today.length - 1]!;
    for (let i = 0; i < APPEND_SAMPLES; i++) {
      const event: HallEvent = { type: 'device.bench.sample', at: last.at + i, day: todayName, deviceId: 'bench', data: { i } };
      const start = process.hrtime.bigint();
      journal.append([event]);
      latencies.push(elapsedMs(start));
    }
    const totalEvents = journal.lastSeq();
    journal.close();
    latencies.sort((a, b) => a - b);

    // The restart path: open, read today, rebuild the queue and the statistics.
    const replayStart = process.hrtime.bigint();
    journal = Journal.open(path, log);
    const openMs = elapsedMs(replayStart);
    const readStart = process.hrtime.bigint();
    const events = journal.readDay(journal.currentDay()!);
    const readDayMs = elapsedMs(readStart);
    const engineStart = process.hrtime.bigint();
    const engine = new QueueEngine(model);
    for (const event of events) engine.apply(event);
    const engineMs = elapsedMs(engineStart);
    const statsStart = process.hrtime.bigint();
    const stats = new StatsAccumulator(model);
    for (const event of events) stats.apply(event);
    const statsMs = elapsedMs(statsStart);
    const replayMs = elapsedMs(replayStart);
    const snapshotStart = process.hrtime.bigint();
    stats.snapshot(last.at);
    const snapshotMs = elapsedMs(snapshotStart);
    journal.close();
    if (engine.servedToday() !== TICKETS) throw new Error(`replay rebuilt ${engine.servedToday()} served tickets, expected ${TICKETS}`);

    return {
      bench: 'journal',
      dir: base,
      appendSamples: APPEND_SAMPLES,
      appendP50Ms: round2(percentile(latencies, 0.5)),
      appendP99Ms: round2(percentile(latencies, 0.99)),
      appendMaxMs: round2(latencies[latencies.length - 1] ?? 0),
      pastDays: PAST_DAYS,
      todayEvents: events.length,
      totalEvents,
      fileMB: Math.round(statSync(path).size / 1e5) / 10,
      openMs: round2(openMs),
      readDayMs: round2(readDayMs),
      engineApplyMs: round2(engineMs),
      statsApplyMs: round2(statsMs),
      statsSnapshotMs: round2(snapshotMs),
      replayMs: round2(replayMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = run();
  console.log(`journal in ${result.dir} (${result.fileMB} MB, ${result.totalEvents} events, ${result.pastDays} past days)`);
  console.log(`append, 1 event per fsynced transaction: p50 ${result.appendP50Ms} ms, p99 ${result.appendP99Ms} ms, max ${result.appendMaxMs} ms (${result.appendSamples} samples)`);
  console.log(
    `restart replay of ${result.todayEvents} events: ${result.replayMs} ms (open ${result.openMs}, readDay ${result.readDayMs}, engine ${result.engineApplyMs}, stats ${result.statsApplyMs}) — target < 1000 ms`,
  );
  console.log(`one stats snapshot of that day: ${result.statsSnapshotMs} ms`);
  console.log(JSON.stringify(result));
}
