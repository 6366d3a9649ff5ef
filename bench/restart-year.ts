/**
 * Restart with a year of history: process start → `bridge/state` online seen by an MQTT client,
 * the way systemd restarting the daemon after a crash looks to the hall's dashboards.
 *
 * The journal holds 260 past business days of ~1,400 tickets each (every ticket issued, called,
 * started, finished and rated) and today's full day, written by the real engine; the daemon
 * is started ROUNDS times as `node dist/src/cli/main.js run` on it. Target and rule, fixed
 * before measuring: median of the rounds ≤ 1000 ms.
 *
 *   node dist/bench/restart-year.js
 *
 * Building the year takes a while, so the file is kept in the OS temp directory between runs
 * (HALL_EDGE_BENCH_FRESH=1 rebuilds it); each run works on a copy of it.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { connectMqtt } from '../src/bus/client.js';
import { hashPassword } from '../src/bus/password.js';
import { parseConfig, toQueueModel } from '../src/config/load.js';
import { Journal } from '../src/journal/journal.js';
import { silentLogger } from '../src/platform/logger.js';
import { QueueError, type QueueCommand } from '../src/queue/commands.js';
import { QueueEngine } from '../src/queue/engine.js';
import type { HallEvent } from '../src/queue/events.js';
import type { QueueModel } from '../src/queue/model.js';

export const TARGET_MEDIAN_MS = 1000;
const PAST_DAYS = 260;
const TICKETS_PER_DAY = 1400;
const ROUNDS = 5;
const YEAR_VERSION = 1;
const PASSWORD = 'bench-admin-secret';

export interface RestartYearResult {
  bench: 'restart-year';
  pastDays: number;
  ticketsPerDay: number;
  events: number;
  fileMB: number;
  rounds: number[];
  medianMs: number;
  maxMs: number;
  /** The daemon's own "journal replayed" figure (read of today + engine + stats), median. */
  replayMedianMs: number;
  targetMedianMs: number;
  met: boolean;
  generatedMs?: number;
}

const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();
const CLI = join(ROOT, 'dist/src/cli/main.js');

function hallConfig(stateDir: string, port: number): Record<string, unknown> {
  const dayStartsAt = `${String((new Date().getUTCHours() + 12) % 24).padStart(2, '0')}:00`;
  const services = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, prefix: String.fromCharCode(65 + i), digits: 4, name: { zh: `业务${i}`, en: `Service ${i}` } }));
  return {
    hall: { id: 'bench-year', name: { zh: '基准大厅', en: 'Bench hall' }, timeZone: 'UTC', dayStartsAt, openDays: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], openingHours: { open: '00:00', close: '24:00' } },
    queue: { enforceWindowSchedule: false },
    services,
    windows: Array.from({ length: 32 }, (_, i) => ({ id: `w${i + 1}`, number: i + 1, skills: services.map((s) => s.id) })),
    mqtt: { tcp: { host: '127.0.0.1', port } },
    users: [{ username: 'bench', role: 'admin', passwordHash: hashPassword(PASSWORD) }],
    stateDir,
    journal: { backup: { atClosing: false } },
    log: { level: 'info' },
  };
}

/** One day of the hall through the real engine, starting at `start`. */
function simulateDay(model: QueueModel, start: number): HallEvent[] {
  const engine = new QueueEngine(model);
  const events: HallEvent[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const run = (command: QueueCommand, at: number) => {
    try {
      events.push(...engine.run(command, at));
    } catch (err) {
      if (!(err instanceof QueueError)) throw err;
    }
  };
  let now = start;
  for (const window of model.windows) run({ type: 'login', windowId: window.id, staffId: `staff-${window.number}` }, now);
  let issued = 0;
  for (let step = 0; issued < TICKETS_PER_DAY || engine.servedToday() < TICKETS_PER_DAY; step++) {
    now += 2_000;
    if (issued < TICKETS_PER_DAY) {
      run({ type: 'issue', serviceId: model.services[Math.floor(random() * model.services.length)]!.id, channel: 'kiosk' }, now);
      issued += 1;
    }
    const window = model.windows[step % model.windows.length]!;
    const current = engine.windowState(window.id)?.current;
    if (current && engine.ticket(current)?.state === 'called') run({ type: 'start', windowId: window.id }, now);
    else if (current) {
      run({ type: 'finish', windowId: window.id }, now);
      run({ type: 'rate', windowId: window.id, rating: (1 + Math.floor(random() * 5)) as 1 | 2 | 3 | 4 | 5 }, now + 500);
      run({ type: 'call-next', windowId: window.id }, now + 1_000);
    } else run({ type: 'call-next', windowId: window.id }, now);
  }
  return events;
}

/**
 * The year: past days are today's events moved back day by day, copied inside SQLite (the
 * bodies carry their own day, so the copy rewrites it); today is the engine's own output.
 */
function buildYear(path: string, model: QueueModel): { events: number } {
  const dayStart = Date.now() - 6 * 3600_000;
  const today = simulateDay(model, dayStart);
  const todayName = today[0]!.day;
  const journal = Journal.open(path, silentLogger());
  for (let i = 0; i < today.length; i += 5000) journal.append(today.slice(i, i + 5000));
  journal.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const perDay = today.length;
  db.exec('CREATE TEMP TABLE template AS SELECT * FROM events');
  // Make room: today's rows move to the end of the seq range, past days fill the start.
  db.prepare('UPDATE events SET seq = seq + ?').run(PAST_DAYS * perDay + 1_000_000_000);
  db.prepare('UPDATE events SET seq = seq - 1000000000').run();
  const copy = db.prepare<[number, string, number, string, string]>(
    'INSERT INTO events (seq, day, at, type, body) SELECT seq + ?, ?, at - ?, type, replace(body, ?, ?) FROM template',
  );
  db.transaction(() => {
    let businessDays = 0;
    for (let back = 1; businessDays < PAST_DAYS; back++) {
      const date = new Date(Date.parse(`${todayName}T00:00:00Z`) - back * 86_400_000);
      if (date.getUTCDay() === 0 || date.getUTCDay() === 6) continue;
      businessDays += 1;
      const day = date.toISOString().slice(0, 10);
      copy.run((PAST_DAYS - businessDays) * perDay, day, back * 86_400_000, todayName, day);
    }
  })();
  const count = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { events: count };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Spawn → first `{"state":"online"}` on bridge/state, in ms; then SIGTERM and wait. */
async function oneRestart(configFile: string, port: number): Promise<{ ms: number; replayMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { env: { ...process.env, HALL_EDGE_LOG_JSON: '1', NOTIFY_SOCKET: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // Poll the port cheaply (a bare TCP connect), then connect MQTT and wait for the retained state.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the daemon exited: ${output}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (open) break;
      if (performance.now() - started > 60_000) throw new Error(`the daemon did not listen within 60 s: ${output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const client = await connectMqtt(`mqtt://127.0.0.1:${port}`, { username: 'bench', password: PASSWORD, reconnectPeriod: 0, connectTimeout: 10_000 });
    try {
      const online = new Promise<number>((resolve) => {
        client.on('message', (_topic, payload) => {
          if ((JSON.parse(payload.toString()) as { state?: string }).state === 'online') resolve(performance.now());
        });
      });
      await client.subscribeAsync('hall/bench-year/bridge/state', { qos: 1 });
      const at = await online;
      const replay = /"ms":(\d+(?:\.\d+)?)[^\n]*"msg":"journal replayed"/.exec(output);
      return { ms: at - started, replayMs: replay ? Number(replay[1]) : NaN };
    } finally {
      await client.endAsync();
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export async function run(): Promise<RestartYearResult> {
  const port = await freePort();
  const cacheDir = join(tmpdir(), `hall-edge-bench-year-v${YEAR_VERSION}`);
  const cached = join(cacheDir, 'journal.db');
  const dir = mkdtempSync(join(tmpdir(), 'restart-year-'));
  const stateDir = join(dir, 'state');
  const configFile = join(dir, 'hall.yaml');
  writeFileSync(configFile, stringify(hallConfig(stateDir, port)));
  const model = toQueueModel(parseConfig(stringify(hallConfig(stateDir, port)), configFile));
  let generatedMs: number | undefined;
  try {
    // The cached year is only valid for the day it was built (today's events must be today's).
    const todayStamp = join(cacheDir, `built-${new Date().toISOString().slice(0, 10)}-${new Date().getUTCHours() < 12 ? 'am' : 'pm'}`);
    if (process.env.HALL_EDGE_BENCH_FRESH || !existsSync(todayStamp)) {
      const t0 = performance.now();
      rmSync(cacheDir, { recursive: true, force: true });
      mkdirSync(cacheDir, { recursive: true });
      buildYear(`${cached}.building`, model);
      renameSync(`${cached}.building`, cached);
      writeFileSync(todayStamp, '');
      generatedMs = Math.round(performance.now() - t0);
    }
    mkdirSync(stateDir, { recursive: true });
    copyFileSync(cached, join(stateDir, 'journal.db'));
    const events = (() => {
      const db = new Database(join(stateDir, 'journal.db'), { readonly: true });
      try {
        return db.prepare('SELECT max(seq) FROM events').pluck().get() as number;
      } finally {
        db.close();
      }
    })();
    const rounds: number[] = [];
    const replays: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { ms, replayMs } = await oneRestart(configFile, port);
      rounds.push(Math.round(ms));
      replays.push(replayMs);
    }
    const sorted = [...rounds].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return {
      bench: 'restart-year',
      pastDays: PAST_DAYS,
      ticketsPerDay: TICKETS_PER_DAY,
      events,
      fileMB: Math.round(statSync(join(stateDir, 'journal.db')).size / 1e5) / 10,
      rounds,
      medianMs: median,
      maxMs: sorted[sorted.length - 1]!,
      replayMedianMs: [...replays].sort((a, b) => a - b)[Math.floor(replays.length / 2)]!,
      targetMedianMs: TARGET_MEDIAN_MS,
      met: median <= TARGET_MEDIAN_MS,
      ...(generatedMs !== undefined ? { generatedMs } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describe(result: RestartYearResult): string[] {
  return [
    `restart with a year of history (${result.pastDays} past days × ${result.ticketsPerDay} tickets + today, ${result.events} events, ${result.fileMB} MB): process start → bridge/state online, ${result.rounds.length} rounds ${result.rounds.join(', ')} ms`,
    `  median ${result.medianMs} ms, max ${result.maxMs} ms (replay inside: median ${result.replayMedianMs} ms) — target median ≤ ${result.targetMedianMs} ms: ${result.met ? 'met' : 'MISSED'}${result.generatedMs !== undefined ? ` (year journal built in ${result.generatedMs} ms, kept for the next runs)` : ''}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
