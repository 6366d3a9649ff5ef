import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CLI, requireBuild } from '../support/daemon-process.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { eventually } from '../support/eventually.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Postgres } from '../support/postgres.js';

const HALLS = ['hall-a', 'hall-b', 'hall-c'];
const TICKETS_PER_HALL = 40;
const COLLECTOR = { username: 'collector', password: 'collector-secret' };
const ACL = ['pattern write hall/%u/#', 'pattern read hall/%u/uplink/replay', '', `user ${COLLECTOR.username}`, 'topic read hall/#', 'topic read $share/#', 'topic write hall/+/uplink/replay', ''].join('\n');

/**
 * The central side with real parts: 3 halls (real daemons with their uplinks), one Mosquitto,
 * 2 `hall-edge collect` processes in one shared group, PostgreSQL 15 in a throwaway cluster.
 */
describe('hall-edge collect: the halls into PostgreSQL', () => {
  let dir: string;
  let postgres: Postgres;
  let mosquitto: Mosquitto;
  let pool: pg.Pool;
  const halls: TestDaemon[] = [];
  const collectors: ChildProcess[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-central-'));
    postgres = await Postgres.start();
    pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    mosquitto = await Mosquitto.start({
      dir: join(dir, 'central'),
      users: [...HALLS.map((id) => ({ username: id, password: `${id}-secret` })), COLLECTOR],
      acl: ACL,
      persistence: true,
    });
    writeFileSync(join(dir, 'collector-password'), COLLECTOR.password, { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    for (const proc of collectors) if (proc.exitCode === null) proc.kill('SIGKILL');
    for (const hall of halls) await hall.close();
    await pool?.end();
    await mosquitto?.stop();
    postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function startCollector(name: string): ChildProcess {
    const proc = spawn(
      process.execPath,
      [CLI, 'collect', '--mqtt', mosquitto.url, '--username', COLLECTOR.username, '--password-file', join(dir, 'collector-password'), '--database', postgres.url, '--group', 'city', '--client-id', name, '--verify-seconds', '1'],
      { env: { ...process.env, HALL_EDGE_LOG_JSON: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    collectors.push(proc);
    return proc;
  }

  async function traffic(hall: TestDaemon, count: number): Promise<void> {
    const services = ['social-security', 'medical-insurance', 'retirement'];
    for (let i = 0; i < count; i++) {
      expect((await hall.operator.requester.request('issue', { serviceId: services[i % 3], channel: 'kiosk' })).status).toBe('ok');
      const call = await hall.operator.requester.request('call-next', { windowId: `w0${(i % 2) + 1}` });
      if (call.status !== 'ok') expect(call.code).toBe('queue-empty');
    }
  }

  async function stored(hallId: string): Promise<{ count: number; distinct: number; max: number; contiguous: number }> {
    const { rows } = await pool.query<{ count: string; distinct: string; max: string | null }>(
      'SELECT count(*) AS count, count(DISTINCT seq) AS distinct, max(seq) AS max FROM events WHERE hall_id = $1',
      [hallId],
    );
    const cursor = await pool.query<{ contiguous: string }>('SELECT contiguous FROM hall_cursors WHERE hall_id = $1', [hallId]);
    return { count: Number(rows[0]!.count), distinct: Number(rows[0]!.distinct), max: Number(rows[0]!.max ?? 0), contiguous: Number(cursor.rows[0]?.contiguous ?? 0) };
  }

  /** Polls PostgreSQL in the background; `eventually` checks the latest answer. */
  async function untilStored(hallId: string, lastSeq: number, what: string): Promise<void> {
    let latest: Awaited<ReturnType<typeof stored>> | undefined;
    let polling = true;
    const poll = (async () => {
      while (polling) latest = await stored(hallId);
    })();
    try {
      await eventually(() => latest !== undefined && latest.count === lastSeq && latest.contiguous === lastSeq, what, 60_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}: stored ${JSON.stringify(latest)}, hall at ${lastSeq}\n${mosquitto.log.split("\n").filter((l) => /collector|Denied|denied|share/i.test(l)).slice(-15).join("\n")}\n${output.join('').split('\n').slice(-30).join('\n')}`);
    } finally {
      polling = false;
      await poll;
    }
  }

  it('stores every event of every hall once across a dead collector and a broker restart, with the halls\' own figures', async () => {
    const first = startCollector('collector-1');
    startCollector('collector-2');
    for (const id of HALLS) {
      halls.push(
        await startTestDaemon({
          windows: 2,
          hallId: id,
          extra: { uplink: { url: mosquitto.url, username: id, passwordFile: writePassword(id), reconnectMaxSeconds: 0.5, batchEvents: 20 } },
        }),
      );
    }
    for (const hall of halls) {
      for (const w of ['w01', 'w02']) expect((await hall.operator.requester.request('login', { windowId: w, staffId: `s-${w}` })).status).toBe('ok');
    }
    await Promise.all(halls.map((hall) => traffic(hall, TICKETS_PER_HALL / 4)));
    // One collector dies mid-stream (SIGKILL: no clean goodbye, messages it had are redelivered).
    first.kill('SIGKILL');
    await Promise.all(halls.map((hall) => traffic(hall, TICKETS_PER_HALL / 4)));
    // The broker restarts (persistent sessions and retained documents survive a clean restart).
    await mosquitto.kill('SIGTERM');
    await Promise.all(halls.map((hall) => traffic(hall, TICKETS_PER_HALL / 4)));
    await mosquitto.start();
    startCollector('collector-3');
    await Promise.all(halls.map((hall) => traffic(hall, TICKETS_PER_HALL / 4)));

    for (const hall of halls) {
      const id = hall.base.split('/')[1]!;
      const lastSeq = (await hall.operator.requester.request('health')).data!.lastSeq as number;
      await untilStored(id, lastSeq, `every event of ${id} in PostgreSQL`);
      const got = await stored(id);
      expect(got).toEqual({ count: lastSeq, distinct: lastSeq, max: lastSeq, contiguous: lastSeq });
    }

    // The halls' figures, computed centrally by the hall's own statistics code, equal the halls' own.
    for (const hall of halls) {
      const id = hall.base.split('/')[1]!;
      const own = (await hall.operator.requester.request('stats')).data as Record<string, unknown>;
      const ownLastSeq = (await hall.operator.requester.request('health')).data!.lastSeq as number;
      let central: Record<string, unknown> | undefined;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const { rows } = await pool.query<{ stats: Record<string, unknown>; events: number }>('SELECT stats, events FROM hall_day_stats WHERE hall_id = $1 AND day = $2', [id, own.day]);
          central = rows[0]?.events === ownLastSeq ? rows[0].stats : undefined;
        }
      })();
      try {
        await eventually(() => central !== undefined, `${id}'s figures over all its events in hall_day_stats`, 30_000);
      } finally {
        polling = false;
        await poll;
      }
      // Figure by figure, the quarter-hour series and the poor ratings too; only when the snapshot was taken differs.
      for (const key of ['day', 'total', 'byService', 'byWindow', 'byStaff', 'perQuarter', 'gate', 'poorRatings', 'appointmentOnTimeMinutes']) {
        expect({ [key]: central![key] }).toEqual({ [key]: own[key] });
      }
      expect((own.perQuarter as unknown[]).length).toBeGreaterThan(0);
    }

    // A hole made on purpose is found (the cursor is checked against the rows) and filled by replay.
    const victim = 'hall-b';
    const lastSeq = (await stored(victim)).count;
    await pool.query('DELETE FROM events WHERE hall_id = $1 AND seq BETWEEN 3 AND 9', [victim]);
    expect((await stored(victim)).count).toBe(lastSeq - 7);
    await untilStored(victim, lastSeq, 'the hole filled by replay');

    // The city table, as JSON, text and CSV: the same rows, from the real CLI.
    const table = await runCli(['collect', 'stats', '--database', postgres.url, '--json']);
    const rows = JSON.parse(table) as Array<Record<string, string | number | null>>;
    expect(rows.map((row) => row.hallId)).toEqual(HALLS);
    for (const row of rows) expect(row).toMatchObject({ issued: TICKETS_PER_HALL, linkState: 'online' });
    const day = rows[0]!.day as string;
    const columns = ['hallId', 'name', 'day', 'issued', 'served', 'waitP50Minutes', 'waitP90Minutes', 'handlingMeanMinutes', 'evaluationRate', 'linkState'];
    const titles = ['hall', 'name', 'day', 'issued', 'served', 'wait p50 min', 'wait p90 min', 'handling min', 'rated', 'link'];

    const text = (await runCli(['collect', 'stats', '--database', postgres.url, '--day', day])).trimEnd().split('\n');
    // Columns padded to the widest cell, two spaces apart; an empty figure shows as "-".
    expect(text[0]!.split(/ {2,}/)).toEqual(titles);
    expect(text.slice(1).map((line) => line.split(/ {2,}/))).toEqual(rows.map((row) => columns.map((key) => (row[key] === null ? '-' : String(row[key])))));
    for (const line of text.slice(1)) expect(line.indexOf(String(rows[0]!.issued))).toBe(text[0]!.indexOf('issued'));

    const csv = await runCli(['collect', 'stats', '--database', postgres.url, '--day', day, '--csv']);
    expect(csv.endsWith('\r\n')).toBe(true);
    const csvLines = csv.slice(0, -2).split('\r\n');
    expect(csvLines[0]).toBe(titles.join(','));
    expect(csvLines.slice(1).map((line) => line.split(','))).toEqual(rows.map((row) => columns.map((key) => (row[key] === null ? '' : String(row[key])))));
    expect(rows.some((row) => row.waitP90Minutes !== null && row.evaluationRate !== null)).toBe(true);

    // A day without figures, and a day that is not a date.
    expect(await runCli(['collect', 'stats', '--database', postgres.url, '--day', '2001-01-01'])).toBe('no hall figures for that day\n');
    expect(await runCli(['collect', 'stats', '--database', postgres.url, '--day', '2001-01-01', '--csv'])).toBe(`${titles.join(',')}\r\n`);
    const refused = await runCliRaw(['collect', 'stats', '--database', postgres.url, '--day', '1 May']);
    expect(refused).toMatchObject({ code: 2, out: '' });
    expect(refused.err).toContain('--day must be YYYY-MM-DD');
  }, 240_000);

  function writePassword(id: string): string {
    const file = join(dir, `${id}-password`);
    writeFileSync(file, `${id}-secret`, { mode: 0o600 });
    return file;
  }

  async function runCliRaw(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
    return { code, out, err };
  }

  async function runCli(args: string[]): Promise<string> {
    const { code, out, err } = await runCliRaw(args);
    if (code !== 0) throw new Error(`hall-edge ${args.join(' ')} failed (${code}): ${err}`);
    return out;
  }
});
