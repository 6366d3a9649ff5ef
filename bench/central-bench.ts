/**
 * The central side's ingest: 20 halls, each with a 1,404-ticket peak day (the demo hall's
 * policy-day profile, every hall its own visitors, run on the real queue engine by src/sim),
 * journaled as the halls journal them and sent by the real uplink (src/uplink: same topics,
 * same batches, QoS 1) through one real Mosquitto with users and an ACL, into a throwaway
 * PostgreSQL by `hall-edge collect` processes — first 1 collector, then 2 in one shared group,
 * each run on a fresh database and broker.
 *
 * Rule, fixed before measuring: the rate is all the halls' events divided by the time from the
 * moment the 20 uplinks start until every event is committed (the halls' cursors in PostgreSQL
 * at their journals' ends); one run per collector count. Target (issue 16): ≥ 5,000 events/s
 * with 2 collectors. The 1-collector figure is printed beside it, without a target. "Lag at the
 * end" is how long after the broker had acknowledged the last event to every hall the last one
 * was committed. Each run is then checked: every event of every hall stored exactly once and
 * equal to the journal's, and each hall's `hall_day_stats` equal, figure by figure (the
 * quarter-hour series too), to the hall's own figures for the day.
 *
 *   npm run build && npm run bench:central
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { loadConfig, toQueueModel } from '../src/config/load.js';
import { uplinkSection } from '../src/config/uplink-section.js';
import { deviceKindSchemas } from '../src/cli/device-schemas.js';
import { Journal } from '../src/journal/journal.js';
import { silentLogger } from '../src/platform/logger.js';
import type { HallEvent, SequencedEvent } from '../src/queue/events.js';
import type { QueueModel } from '../src/queue/model.js';
import type { DayStats } from '../src/queue/stats.js';
import { planSimulation } from '../src/sim/plan.js';
import { simulateDay } from '../src/sim/simulator.js';
import { Uplink } from '../src/uplink/uplink.js';
import { CLI, requireBuild } from '../test/support/daemon-process.js';
import { eventually } from '../test/support/eventually.js';
import { Mosquitto } from '../test/support/mosquitto.js';
import { Postgres } from '../test/support/postgres.js';

const HALLS = 20;
const TICKETS = 1404;
const TARGET_EVENTS_PER_S = 5_000;
const TARGET_COLLECTORS = 2;
/** A failing run gives up after this long (it only bounds how long a broken run takes to say so). */
const RUN_TIMEOUT_MS = 600_000;

const COLLECTOR = { username: 'collector', password: 'collector-secret' };
const ACL = ['pattern write hall/%u/#', 'pattern read hall/%u/uplink/replay', '', `user ${COLLECTOR.username}`, 'topic read hall/#', 'topic read $share/#', 'topic write hall/+/uplink/replay', ''].join('\n');
/** The figures compared with the hall's own; `generatedAt` is only when the snapshot was taken. */
const FIGURES = ['day', 'total', 'byService', 'byWindow', 'byStaff', 'perQuarter', 'gate', 'poorRatings', 'appointmentOnTimeMinutes'] as const;

interface BenchHall {
  id: string;
  journalFile: string;
  events: number;
  day: string;
  stats: DayStats;
  info: object;
}

export interface IngestRun {
  collectors: number;
  events: number;
  ms: number;
  eventsPerSecond: number;
  /** Until the broker had acknowledged every event to the halls (the publishing side). */
  publishedMs: number;
  lagAtEndMs: number;
  /**
   * The collectors' own pace once the broker had everything: the events committed during the
   * lag at the end over its length (the halls' publishing, on the same cores, no longer counts).
   */
  drainEventsPerSecond: number;
  /** After the last event, until every hall's hall_day_stats covered its whole day. */
  statsSettledMs: number;
  replayRequests: number;
  replayEventsResent: number;
  collectorCpuSeconds: number;
  /** The events partitions with their indexes, per hall-day (PostgreSQL sizing in docs/central.md). */
  mbPerHallDay: number;
  exactlyOnce: boolean;
  statsEqual: boolean;
  problems: string[];
  loadAverage: number;
}

export interface CentralBenchResult {
  bench: 'central';
  halls: number;
  ticketsPerHall: number;
  events: number;
  runs: IngestRun[];
  /** `measured` false when the target's collector count was not run (CENTRAL_BENCH_COLLECTORS); `met` is then false. */
  target: { collectors: number; eventsPerSecond: number; measured: boolean; met: boolean; correct: boolean };
}

export async function run(): Promise<CentralBenchResult> {
  requireBuild();
  const dir = mkdtempSync(join(tmpdir(), 'central-bench-'));
  const postgres = await Postgres.start();
  try {
    const halls = buildHalls(dir);
    const runs: IngestRun[] = [];
    // CENTRAL_BENCH_COLLECTORS=1 (say) runs only that count, for profiling the collector.
    const counts = process.env.CENTRAL_BENCH_COLLECTORS ? [Number(process.env.CENTRAL_BENCH_COLLECTORS)] : [1, TARGET_COLLECTORS];
    for (const collectors of counts) runs.push(await ingest(halls, collectors, postgres, join(dir, `run-${collectors}`)));
    const measured = runs.find((r) => r.collectors === TARGET_COLLECTORS);
    return {
      bench: 'central',
      halls: HALLS,
      ticketsPerHall: TICKETS,
      events: runs[0]!.events,
      runs,
      target: {
        collectors: TARGET_COLLECTORS,
        eventsPerSecond: TARGET_EVENTS_PER_S,
        measured: measured !== undefined,
        met: measured !== undefined && measured.eventsPerSecond >= TARGET_EVENTS_PER_S && measured.exactlyOnce && measured.statsEqual,
        correct: runs.every((r) => r.exactlyOnce && r.statsEqual),
      },
    };
  } finally {
    postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each hall's peak day on the real engine, journaled as the hall would journal it. */
function buildHalls(dir: string): BenchHall[] {
  const config = loadConfig(fileURLToPath(new URL('../../config/demo-hall.yaml', import.meta.url)), { deviceKinds: deviceKindSchemas() });
  const demo = toQueueModel(config);
  const halls: BenchHall[] = [];
  for (let i = 1; i <= HALLS; i++) {
    const id = `hall-${String(i).padStart(2, '0')}`;
    // Without the demo's daily caps, so every hall issues all 1,404 tickets.
    const model: QueueModel = { ...demo, hallId: id, services: demo.services.map(({ dailyCap: _cap, ...service }) => service) };
    const plan = planSimulation(model, { tickets: TICKETS, profile: 'policy-day', seed: i });
    const day = plan.days[0]!;
    const events: HallEvent[] = [];
    const result = simulateDay({ model, date: day.date, visitors: day.visitors, staffing: day.staffing(model), onEvent: (event) => events.push(event) });
    const journalFile = join(dir, `${id}.journal.db`);
    const journal = Journal.open(journalFile, silentLogger());
    for (let k = 0; k < events.length; k += 1000) journal.append(events.slice(k, k + 1000));
    journal.close();
    halls.push({ id, journalFile, events: events.length, day: day.date, stats: result.stats, info: hallInfo(model, config.hall.name) });
  }
  return halls;
}

/** The hall's retained `bridge/info`, as the daemon publishes it (src/hall/mqtt-api.ts info()). */
function hallInfo(model: QueueModel, name: unknown): object {
  return {
    hallId: model.hallId,
    timeZone: model.clock.timeZone,
    name,
    services: model.services.map((s) => ({ id: s.id, prefix: s.prefix, name: s.name, dailyCap: s.dailyCap ?? null })),
    windows: model.windows.map((w) => ({ id: w.id, number: w.number, name: w.name, skills: w.skills.map((k) => k.serviceId), priorityWindow: w.priorityWindow })),
  };
}

async function ingest(halls: BenchHall[], collectorCount: number, postgres: Postgres, dir: string): Promise<IngestRun> {
  mkdirSync(dir, { recursive: true });
  const database = `ingest_${collectorCount}`;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = postgres.url.replace(/\/postgres$/, `/${database}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const mosquitto = await Mosquitto.start({
    dir: join(dir, 'central'),
    users: [...halls.map((hall) => ({ username: hall.id, password: `${hall.id}-secret` })), COLLECTOR],
    acl: ACL,
  });
  writeFileSync(join(dir, 'collector-password'), COLLECTOR.password, { mode: 0o600 });
  const collectors: Array<{ proc: ChildProcess; output: string[] }> = [];
  const uplinks: Uplink[] = [];
  const journals: Journal[] = [];
  const total = halls.reduce((sum, hall) => sum + hall.events, 0);
  try {
    for (let c = 1; c <= collectorCount; c++) collectors.push(startCollector(mosquitto.url, url, join(dir, 'collector-password'), `bench-collector-${c}`));
    // Only once every collector's shared subscription is in place do the halls start sending.
    await eventually(() => collectors.every((c) => c.output.join('').includes('"collector subscribed"')), 'the collectors subscribed', 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${collectors.map((c) => c.output.join('')).join('\n')}`);
    });

    const started = performance.now();
    let publishedAt = 0;
    for (const hall of halls) {
      const journal = Journal.open(hall.journalFile, silentLogger());
      journals.push(journal);
      const stateDir = join(dir, hall.id);
      mkdirSync(stateDir);
      writeFileSync(join(stateDir, 'password'), `${hall.id}-secret`, { mode: 0o600 });
      const uplink = new Uplink({
        section: uplinkSection.parse({ url: mosquitto.url, username: hall.id, passwordFile: join(stateDir, 'password') }),
        hallId: hall.id,
        journal,
        stateDir,
        localBroker: retainedInfo(hall),
        alarms: { raise: () => undefined, clear: () => undefined },
        log: silentLogger(),
      });
      uplinks.push(uplink);
      await uplink.start();
    }
    // The halls' cursors in PostgreSQL, polled (one cheap query) until all are at their journal's end.
    let stored = 0;
    let storedWhenPublished = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const { rows } = await pool.query<{ stored: string | null }>('SELECT sum(contiguous) AS stored FROM hall_cursors').catch(() => ({ rows: [{ stored: null }] }));
        stored = Number(rows[0]?.stored ?? 0);
        if (!publishedAt && uplinks.every((u, i) => u.health().cursor === halls[i]!.events)) {
          publishedAt = performance.now();
          storedWhenPublished = stored;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await eventually(() => stored >= total, `all ${total} events committed by ${collectorCount} collector(s)`, RUN_TIMEOUT_MS);
    } finally {
      polling = false;
      await poll;
    }
    const ms = performance.now() - started;
    const storedAt = performance.now();
    if (!publishedAt) {
      publishedAt = storedAt;
      storedWhenPublished = total;
    }

    // The figures settle within a housekeeping round or two of the last event.
    const statsSettledMs = await waitStats(pool, halls);
    const settled = performance.now();

    const collectorCpuSeconds = collectors.reduce((sum, c) => sum + cpuSeconds(c.proc.pid!), 0);
    const problems = [...(await checkEvents(pool, halls, journals)), ...(await checkStats(pool, halls))];
    const size = await pool.query<{ bytes: string }>("SELECT sum(pg_total_relation_size(inhrelid))::bigint AS bytes FROM pg_inherits WHERE inhparent = 'events'::regclass");
    const replayRequests = collectors.reduce((sum, c) => sum + c.output.join('').split('replay asked').length - 1, 0);
    const replayEventsResent = uplinks.reduce((sum, u) => sum + u.health().replayEventsSent, 0);
    return {
      collectors: collectorCount,
      events: total,
      ms: Math.round(ms),
      eventsPerSecond: Math.round((total / ms) * 1000),
      publishedMs: Math.round(publishedAt - started),
      lagAtEndMs: Math.round(storedAt - publishedAt),
      drainEventsPerSecond: storedAt - publishedAt > 1000 ? Math.round(((total - storedWhenPublished) / (storedAt - publishedAt)) * 1000) : 0,
      statsSettledMs: statsSettledMs < 0 ? -1 : Math.round(settled - storedAt),
      replayRequests,
      replayEventsResent,
      collectorCpuSeconds: Math.round(collectorCpuSeconds * 10) / 10,
      mbPerHallDay: Math.round((Number(size.rows[0]!.bytes) / halls.length / 1e6) * 10) / 10,
      exactlyOnce: !problems.some((p) => p.startsWith('events')),
      statsEqual: !problems.some((p) => p.startsWith('stats')),
      problems: problems.slice(0, 10),
      loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    for (const uplink of uplinks) await uplink.stop();
    for (const journal of journals) journal.close();
    for (const { proc } of collectors) {
      const exited = new Promise((resolve) => (proc.exitCode !== null ? resolve(null) : proc.once('exit', resolve)));
      proc.kill('SIGTERM');
      await exited;
    }
    await pool.end();
    await mosquitto.stop();
  }
}

function startCollector(mqttUrl: string, databaseUrl: string, passwordFile: string, clientId: string): { proc: ChildProcess; output: string[] } {
  const profile = process.env.CENTRAL_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CENTRAL_BENCH_PROFILE}`] : [];
  const proc = spawn(process.execPath, [...profile, CLI, 'collect', '--mqtt', mqttUrl, '--username', COLLECTOR.username, '--password-file', passwordFile, '--database', databaseUrl, '--group', 'city', '--client-id', clientId], {
    env: { ...process.env, HALL_EDGE_LOG_JSON: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  return { proc, output };
}

/** The hall's own broker, as far as the uplink's mirror sees it: the retained `bridge/info`. */
function retainedInfo(hall: BenchHall): ConstructorParameters<typeof Uplink>[0]['localBroker'] {
  return {
    subscribe: async (filter, handler) => {
      if (filter.endsWith('/bridge/info')) {
        setImmediate(() => void handler({ topic: `hall/${hall.id}/bridge/info`, payload: Buffer.from(JSON.stringify(hall.info)), retain: true }));
      }
      return async () => undefined;
    },
  };
}

/** Every hall's hall_day_stats over its whole day (polled in the background); -1 if they never got there. */
async function waitStats(pool: pg.Pool, halls: BenchHall[]): Promise<number> {
  const started = performance.now();
  let done = false;
  let polling = true;
  const poll = (async () => {
    while (polling && !done) {
      const { rows } = await pool.query<{ hall_id: string; events: number }>('SELECT hall_id, events FROM hall_day_stats');
      const got = new Map(rows.map((row) => [row.hall_id, row.events]));
      done = halls.every((hall) => got.get(hall.id) === hall.events);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    await eventually(() => done, 'every hall_day_stats over its whole day', 60_000);
    return performance.now() - started;
  } catch {
    return -1;
  } finally {
    polling = false;
    await poll;
  }
}

/** Every event exactly once and equal to the journal's. */
async function checkEvents(pool: pg.Pool, halls: BenchHall[], journals: Journal[]): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, hall] of halls.entries()) {
    const { rows } = await pool.query<{ seq: string; body: SequencedEvent }>('SELECT seq, body FROM events WHERE hall_id = $1 ORDER BY seq', [hall.id]);
    const journaled: SequencedEvent[] = [];
    for (let seq = 0; seq < hall.events; ) {
      const page = journals[i]!.readSince(seq, 1000);
      journaled.push(...page);
      seq = page[page.length - 1]!.seq;
    }
    if (rows.length !== journaled.length) problems.push(`events: ${hall.id} has ${rows.length} rows for ${journaled.length} journaled events`);
    for (const [k, event] of journaled.entries()) {
      const row = rows[k];
      if (!row || Number(row.seq) !== event.seq || !isDeepStrictEqual(row.body, JSON.parse(JSON.stringify(event)))) {
        problems.push(`events: ${hall.id} seq ${event.seq} differs from the journal`);
        break;
      }
    }
  }
  return problems;
}

/** hall_day_stats against the hall's own figures (the simulator's StatsAccumulator), figure by figure. */
async function checkStats(pool: pg.Pool, halls: BenchHall[]): Promise<string[]> {
  const problems: string[] = [];
  for (const hall of halls) {
    const { rows } = await pool.query<{ stats: DayStats }>("SELECT stats FROM hall_day_stats WHERE hall_id = $1 AND day = $2::date", [hall.id, hall.day]);
    const central = rows[0]?.stats;
    if (!central) {
      problems.push(`stats: ${hall.id} has no hall_day_stats for ${hall.day}`);
      continue;
    }
    const own = JSON.parse(JSON.stringify(hall.stats)) as DayStats;
    for (const key of FIGURES) if (!isDeepStrictEqual(central[key], own[key])) problems.push(`stats: ${hall.id} ${key} differs from the hall's own`);
  }
  return problems;
}

/** CPU seconds (user + system) a live process has used, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export function describe(result: CentralBenchResult): string[] {
  const lines = result.runs.map((r) => {
    const target = r.collectors === result.target.collectors ? ` — target ≥ ${result.target.eventsPerSecond}/s: ${r.eventsPerSecond >= result.target.eventsPerSecond ? 'met' : 'MISSED'}` : ' (no target; for comparison)';
    return (
      `central: ${result.halls} halls × ${result.ticketsPerHall} tickets (${r.events} events) into PostgreSQL by ${r.collectors} collector(s): ${r.eventsPerSecond} events/s (${r.ms} ms; broker had all at ${r.publishedMs} ms, lag at the end ${r.lagAtEndMs} ms, during which ${r.drainEventsPerSecond} events/s; figures settled ${r.statsSettledMs} ms later)${target}` +
      `\n  exactly once: ${r.exactlyOnce ? 'yes' : 'NO'}, hall_day_stats = the halls' own: ${r.statsEqual ? 'yes' : 'NO'}; replay requests ${r.replayRequests} (${r.replayEventsResent} events resent); collectors' CPU ${r.collectorCpuSeconds} s; ${r.mbPerHallDay} MB per hall-day in PostgreSQL; load ${r.loadAverage}` +
      (r.problems.length ? `\n  problems: ${r.problems.join('; ')}` : '')
    );
  });
  const verdict = !result.target.measured ? 'not measured (that collector count was not run)' : result.target.met ? 'met' : 'MISSED';
  lines.push(`central: target (≥ ${result.target.eventsPerSecond} events/s with ${result.target.collectors} collectors, every event once, figures equal): ${verdict}`);
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify({ bench: { central: result } }));
}
