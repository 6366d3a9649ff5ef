import { afterAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { MqttClient } from 'mqtt';
import { writeTestHall, TEST_USERS } from '../support/hall-config.js';
import { CLI, connect, Requester, requireBuild, startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { Journal } from '../../src/journal/journal.js';
import { loadConfig } from '../../src/config/load.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { silentLogger } from '../../src/platform/logger.js';

/**
 * The issue's table, row by row: a real daemon process acknowledges tickets, is SIGKILLed, the
 * state directory is damaged, and the daemon is started again. Whatever the damage, the daemon
 * either refuses with a message naming the file and the command that helps, or (when told to
 * accept the loss) continues numbering ABOVE every number it acknowledged before — never
 * "started normally" with numbers issued twice.
 */
const BASE = 'hall/test-hall';
const TICKETS = 60;
const SERVICES = ['social-security', 'medical-insurance', 'retirement'];
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Hall {
  file: string;
  dir: string;
  state: string;
  acknowledged: string[];
}

/**
 * A hall whose daemon acknowledged TICKETS tickets and was then SIGKILLed. With `checkpointed`,
 * a first daemon issued half of them and stopped cleanly (so they are in journal.db itself, not
 * only in the WAL) before the second one issued the rest and was killed.
 */
async function hallKilledAfterTickets(checkpointed = false): Promise<Hall> {
  const hall = writeTestHall({ ws: false });
  dirs.push(hall.dir);
  const acknowledged: string[] = [];
  if (checkpointed) await issueTickets(hall, acknowledged, 'SIGTERM');
  await issueTickets(hall, acknowledged, 'SIGKILL');
  return { ...hall, state: join(hall.dir, 'state'), acknowledged };
}

async function issueTickets(hall: { file: string; dir: string }, acknowledged: string[], signal: NodeJS.Signals): Promise<void> {
  const daemon = await startDaemonProcess(hall.file, hall.dir);
  const client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
  try {
    const requester = new Requester(client, BASE);
    await requester.ready();
    const answers = await Promise.all(Array.from({ length: TICKETS }, (_, i) => requester.request('issue', { serviceId: SERVICES[i % 3], channel: 'kiosk' }, 20_000)));
    for (const answer of answers) {
      expect(answer.status).toBe('ok');
      acknowledged.push((answer.data as { ticket: { number: string } }).ticket.number);
    }
  } finally {
    client.end(true);
    daemon.proc.kill(signal);
    await daemon.exited;
  }
}

/** `hall-edge run` that is expected to refuse: its exit code and everything it printed. */
function runExpectingExit(hall: Hall, extra: string[] = []): Promise<{ code: number; output: string }> {
  requireBuild();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'run', '--config', hall.file, ...extra], { env: { ...process.env, HALL_EDGE_LOG_JSON: '1', NOTIFY_SOCKET: '' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

/** The message of the daemon's fatal "could not start" line. */
function refusal(output: string): string {
  for (const line of output.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if (entry.level === 60 && entry.msg) return entry.msg;
    } catch {
      // not JSON
    }
  }
  return output;
}

/** Starts with --accept-journal-loss and checks numbering continues above every acknowledged number. */
async function continuesAboveWatermark(hall: Hall): Promise<void> {
  const daemon: DaemonProcess = await startDaemonProcess(hall.file, hall.dir, 20_000, ['--accept-journal-loss']);
  let client: MqttClient | undefined;
  try {
    client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, TEST_USERS.admin.username, TEST_USERS.admin.password);
    const alarms: Array<{ deviceId: string; code: string; severity: string; message: string }> = [];
    client.on('message', (topic, payload) => {
      if (topic === `${BASE}/alarms`) alarms.splice(0, alarms.length, ...(JSON.parse(payload.toString()) as { alarms: typeof alarms }).alarms);
    });
    await client.subscribeAsync(`${BASE}/alarms`, { qos: 1 });
    const requester = new Requester(client, BASE);
    await requester.ready();
    const fresh: string[] = [];
    for (const serviceId of SERVICES) {
      const answer = await requester.request('issue', { serviceId, channel: 'kiosk' });
      expect(answer.status).toBe('ok');
      fresh.push((answer.data as { ticket: { number: string } }).ticket.number);
    }
    for (const number of fresh) {
      expect(hall.acknowledged).not.toContain(number);
      const highest = Math.max(...hall.acknowledged.filter((n) => n[0] === number[0]).map((n) => Number(n.slice(1))));
      expect(Number(number.slice(1))).toBeGreaterThan(highest);
    }
    // The loss is alarmed, critical, until an admin acknowledges it; an operator may not.
    const loss = await eventually(() => alarms.find((a) => a.deviceId === 'journal' && a.code === 'journal-loss'), 'the journal-loss alarm');
    expect(loss.severity).toBe('critical');
    const operator = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
    try {
      const asOperator = new Requester(operator, BASE);
      await asOperator.ready();
      const refused = await asOperator.request('alarm-ack', { deviceId: 'journal', code: 'journal-loss' });
      expect(refused.status).toBe('error');
      expect(refused.code).toBe('forbidden');
    } finally {
      operator.end(true);
    }
    const acked = await requester.request('alarm-ack', { deviceId: 'journal', code: 'journal-loss' });
    expect(acked.status).toBe('ok');
    await eventually(() => !alarms.some((a) => a.code === 'journal-loss'), 'the alarm to clear after the admin acknowledged it');
  } finally {
    client?.end(true);
    daemon.proc.kill('SIGTERM');
    await daemon.exited;
  }
  // The journal records the loss, with the lost range.
  const journal = Journal.open(join(hall.state, 'journal.db'), silentLogger());
  try {
    const events = journal.readDay(journal.currentDay()!);
    const loss = events.find((e) => e.type === 'journal.loss');
    expect(loss).toBeDefined();
    if (loss?.type === 'journal.loss') expect(loss.lostSeq.to).toBeGreaterThanOrEqual(loss.lostSeq.from);
  } finally {
    journal.close();
  }
}


/**
 * The restart after the damage, in this process (the kill before it was of the real daemon
 * process): the same startDaemon the CLI runs, without a second Node start-up per step.
 */
async function startInProcess(hall: Hall, acceptJournalLoss = false): Promise<RunningDaemon> {
  const config = loadConfig(hall.file, { deviceKinds: deviceKindSchemas() });
  return startDaemon({ config, log: silentLogger(), acceptJournalLoss, invocation: `hall-edge run --config ${hall.file}` });
}

async function refusalInProcess(hall: Hall): Promise<string> {
  try {
    const daemon = await startInProcess(hall);
    await daemon.stop();
  } catch (err) {
    return `could not start: ${(err as Error).message}`;
  }
  throw new Error('the daemon started');
}

/** The same checks as continuesAboveWatermark, on an in-process daemon. */
async function continuesAboveWatermarkInProcess(hall: Hall): Promise<void> {
  const daemon = await startInProcess(hall, true);
  try {
    for (const serviceId of SERVICES) {
      const result = daemon.hall.execute({ type: 'issue', serviceId, channel: 'kiosk' });
      expect(result.ok).toBe(true);
      const number = result.ok ? result.ticket!.number : '';
      expect(hall.acknowledged).not.toContain(number);
      const highest = Math.max(...hall.acknowledged.filter((n) => n[0] === number[0]).map((n) => Number(n.slice(1))));
      expect(Number(number.slice(1))).toBeGreaterThan(highest);
    }
    expect(daemon.devices.activeAlarms()).toContainEqual(expect.objectContaining({ deviceId: 'journal', code: 'journal-loss', severity: 'critical' }));
    expect(() => daemon.devices.acknowledgeAlarm('journal', 'journal-loss', TEST_USERS.operator.username)).toThrow(/only an admin/);
    expect(daemon.devices.acknowledgeAlarm('journal', 'journal-loss', TEST_USERS.admin.username)).toMatchObject({ acknowledgedBy: TEST_USERS.admin.username });
    expect(daemon.devices.activeAlarms().some((a) => a.code === 'journal-loss')).toBe(false);
  } finally {
    await daemon.stop();
  }
}

function flipBytes(file: string, offset: number, count: number): void {
  const fd = openSync(file, 'r+');
  const buffer = Buffer.alloc(count);
  readSync(fd, buffer, 0, count, offset);
  for (let i = 0; i < count; i++) buffer[i] = buffer[i]! ^ 0xff;
  writeSync(fd, buffer, 0, count, offset);
  closeSync(fd);
}

const journalOf = (hall: Hall) => join(hall.state, 'journal.db');
const walOf = (hall: Hall) => `${journalOf(hall)}-wal`;

describe('a journal behind its watermark after storage damage', () => {
  const rows: Array<[string, (hall: Hall) => void]> = [
    ['journal.db zero-length', (hall) => truncateSync(journalOf(hall), 0)],
    ['the last 1 KB of the WAL cut', (hall) => truncateSync(walOf(hall), statSync(walOf(hall)).size - 1024)],
    ['the WAL halved', (hall) => truncateSync(walOf(hall), Math.floor(statSync(walOf(hall)).size / 2))],
    ['32 WAL bytes flipped', (hall) => flipBytes(walOf(hall), Math.floor(statSync(walOf(hall)).size / 2), 32)],
    ['the WAL deleted', (hall) => unlinkSync(walOf(hall))],
  ];

  it.each(rows)('%s: refused with the lost range and the command, then continues above the watermark when accepted', async (name, damage) => {
    const hall = await hallKilledAfterTickets();
    expect(existsSync(walOf(hall))).toBe(true);
    damage(hall);
    // The first row goes through the CLI and MQTT end to end; the others restart in this process.
    const endToEnd = name.startsWith('journal.db zero-length');
    const message = endToEnd ? refusal((await runExpectingExit(hall)).output) : await refusalInProcess(hall);
    expect(message).toContain(`journal ${journalOf(hall)} is behind its watermark ${join(hall.state, 'journal.watermark')}`);
    expect(message).toMatch(/seq \d+(\.\.\d+)?/);
    expect(message).toMatch(/tickets [A-C]\d{3}/);
    expect(message).toContain(`hall-edge run --config ${hall.file} --accept-journal-loss`);
    if (endToEnd) {
      const again = await runExpectingExit(hall);
      expect(again.code).toBe(1);
      // Refusing twice changes nothing: the watermark is not lowered by a refused start.
      expect(refusal(again.output)).toContain('is behind its watermark');
      await continuesAboveWatermark(hall);
    } else {
      await continuesAboveWatermarkInProcess(hall);
    }
  }, 120_000);
});

describe('a damaged journal file', () => {
  // Damage to pages the start-up does not read (past days) or that the WAL supersedes changes
  // nothing the daemon needs: it then starts with every acknowledged ticket, which is the honest
  // outcome (`hall-edge journal verify` reports such damage). Damage to what it needs refuses.
  const rows: Array<[string, (hall: Hall) => void]> = [
    ['the last 100 bytes of journal.db cut', (hall) => truncateSync(journalOf(hall), statSync(journalOf(hall)).size - 100)],
    ['bytes flipped in the data pages of journal.db', (hall) => flipBytes(journalOf(hall), Math.floor(statSync(journalOf(hall)).size / 2) + 100, 64)],
    ['the last page of journal.db cut', (hall) => truncateSync(journalOf(hall), statSync(journalOf(hall)).size - 4096)],
    ['journal.db halved', (hall) => truncateSync(journalOf(hall), Math.floor(statSync(journalOf(hall)).size / 2))],
    ['the header of journal.db flipped', (hall) => flipBytes(journalOf(hall), 0, 16)],
  ];

  it.each(rows)('%s: refused with a message naming the file, the problem and the command that helps — or complete', async (_name, damage) => {
    const hall = await hallKilledAfterTickets(true);
    damage(hall);
    const first = await startOrRefusal(hall);
    if (first.refused !== undefined) {
      const message = first.refused;
      expect(message).toContain(journalOf(hall));
      expect(message).toMatch(/is damaged|is behind its watermark|is not a hall-edge journal/);
      expect(message).toMatch(/hall-edge journal (verify|recover)|--accept-journal-loss/);
      // Not a bare parser or SQLite error: the sentence starts with the file and what is wrong.
      expect(message).toMatch(new RegExp(`^could not start: (journal )?${journalOf(hall)} is`));
    } else {
      expect(first.numbers).toEqual(expect.arrayContaining(hall.acknowledged));
      for (const number of first.fresh) expect(hall.acknowledged).not.toContain(number);
    }
  }, 120_000);
});

/** Starts the daemon: either its refusal, or the tickets it lists and fresh numbers it issues. */
async function startOrRefusal(hall: Hall): Promise<{ refused?: string; numbers: string[]; fresh: string[] }> {
  let daemon: RunningDaemon;
  try {
    daemon = await startInProcess(hall);
  } catch (err) {
    return { refused: `could not start: ${(err as Error).message}`, numbers: [], fresh: [] };
  }
  try {
    const numbers = [...daemon.hall.engine.allTickets()].map((t) => t.number);
    const fresh: string[] = [];
    for (const serviceId of SERVICES) {
      const result = daemon.hall.execute({ type: 'issue', serviceId, channel: 'kiosk' });
      if (result.ok) fresh.push(result.ticket!.number);
    }
    expect(fresh).toHaveLength(SERVICES.length);
    return { numbers, fresh };
  } finally {
    await daemon.stop();
  }
}

describe('the watermark itself damaged', () => {
  it('is detected and reported, not trusted: rewritten from the journal, with a warning alarm', async () => {
    const hall = await hallKilledAfterTickets();
    const watermark = join(hall.state, 'journal.watermark');
    writeFileSync(watermark, readFileSync(watermark).fill(0x58, 0, 8192 - 1));
    const daemon = await startDaemonProcess(hall.file, hall.dir);
    let client: MqttClient | undefined;
    try {
      const logged = daemon.lines.find((line) => line.includes('is damaged and is not trusted'));
      expect(logged).toContain(watermark);
      client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
      const requester = new Requester(client, BASE);
      await requester.ready();
      const devices = await requester.request('devices');
      const alarms = (devices.data as { alarms: Array<{ deviceId: string; code: string; severity: string }> }).alarms;
      expect(alarms).toContainEqual(expect.objectContaining({ deviceId: 'journal', code: 'watermark-damaged', severity: 'warning' }));
      const next = await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' });
      expect(hall.acknowledged).not.toContain((next.data as { ticket: { number: string } }).ticket.number);
    } finally {
      client?.end(true);
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    }
    // Rewritten from the journal: readable again.
    expect(readFileSync(watermark, 'utf8')).toMatch(/^hall-edge watermark v1 /);
  }, 120_000);
});

/** A small tmpfs at `dir` (root only); undefined when this machine does not allow mounting. */
function mountTmpfs(dir: string, size: string): (() => void) | undefined {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}

const mountable = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'mount-probe-'));
  const unmount = mountTmpfs(probe, '64k');
  unmount?.();
  rmSync(probe, { recursive: true, force: true });
  return unmount !== undefined;
})();
if (!mountable) console.warn('journal-damage: cannot mount a tmpfs here (not root?): the read-only and disk-full rows are skipped');

describe.skipIf(!mountable)('storage that refuses writes (a tmpfs mounted for the test)', () => {
  it('read-only state directory: refused, saying the directory is read-only and how to fix it', async () => {
    const hall = writeTestHall({ ws: false });
    dirs.push(hall.dir);
    const state = join(hall.dir, 'state');
    const unmount = mountTmpfs(state, '4m')!;
    try {
      await issueTickets(hall, [], 'SIGKILL');
      execFileSync('mount', ['-o', 'remount,ro', state]);
      const refused = await runExpectingExit({ ...hall, state, acknowledged: [] });
      const message = refusal(refused.output);
      expect(refused.code, message).toBe(1);
      expect(message).toContain(`the directory ${state} is read-only`);
      expect(message).toMatch(/remount,rw/);
      expect(message).not.toMatch(/^could not start: disk I\/O error/);
    } finally {
      unmount();
    }
  }, 120_000);

  it('disk full: refused, saying the disk is full', async () => {
    const hall = writeTestHall({ ws: false });
    dirs.push(hall.dir);
    const state = join(hall.dir, 'state');
    const unmount = mountTmpfs(state, '2m')!;
    try {
      await issueTickets(hall, [], 'SIGKILL');
      // Fill what is left, the way a log that grew without bound does.
      try {
        writeFileSync(join(state, 'filler'), Buffer.alloc(4 * 1024 * 1024));
      } catch {
        // ENOSPC: the disk is now full, which is the point.
      }
      const refused = await runExpectingExit({ ...hall, state, acknowledged: [] });
      const message = refusal(refused.output);
      expect(refused.code, message).toBe(1);
      expect(message).toContain(journalOf({ ...hall, state, acknowledged: [] }));
      expect(message).toMatch(/disk holding .* is full/);
    } finally {
      unmount();
    }
  }, 120_000);
});
