import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlarmBoard, type AlarmEntry, type AlarmJournalEvent } from '../../src/hall/alarm-board.js';
import { silentLogger } from '../../src/platform/logger.js';
import { deviceKinds } from '../../devices/registry.js';
import { alarmSpecMatches } from '../../src/device-contract/index.js';

/** The alarm lifecycle on a virtual clock (vitest fake timers drive the board's timers). */
describe('alarm board', () => {
  let dir: string;
  let journal: AlarmJournalEvent[];
  let shown: AlarmEntry[];
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    dir = mkdtempSync(join(tmpdir(), 'alarms-'));
    journal = [];
    shown = [];
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  const board = (extra: Partial<ConstructorParameters<typeof AlarmBoard>[0]> = {}) =>
    new AlarmBoard({
      now: () => Date.now(),
      log: silentLogger(),
      journal: (event) => journal.push(event),
      publish: (alarms) => (shown = alarms),
      file: join(dir, 'alarms.json'),
      minVisibleMs: 60_000,
      restoredGraceMs: 30_000,
      spec: (_device, code) => (code === 'gate.refused' ? { code, severity: 'warning', clearedWhen: 'x', operatorAction: 'y', expiresAfterMs: 10_000 } : undefined),
      ...extra,
    });
  const fault = { code: 'printer-fault', message: 'paper-out', severity: 'critical' as const };

  it('keeps a fault that lasted 2 ms on show, cleared, until the minimum time has passed', () => {
    const b = board();
    b.raise('d1', fault);
    vi.advanceTimersByTime(2);
    b.clear('d1', 'printer-fault');
    expect(shown).toEqual([expect.objectContaining({ deviceId: 'd1', code: 'printer-fault', state: 'cleared', since: 1_000_000, clearedAt: 1_000_002 })]);
    expect(journal.map((e) => e.type)).toEqual(['device.alarm.raised', 'device.alarm.cleared']);
    vi.advanceTimersByTime(59_997);
    expect(shown).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(shown).toEqual([]);
  });

  it('an acknowledgement takes a cleared alarm off at once, and marks an active one', () => {
    const b = board();
    b.raise('d1', fault);
    b.clear('d1', 'printer-fault');
    expect(b.acknowledge('d1', 'printer-fault', 'zhang')).toMatchObject({ acknowledgedBy: 'zhang' });
    expect(shown).toEqual([]);
    b.raise('d1', fault);
    b.acknowledge('d1', 'printer-fault', 'li');
    expect(shown).toEqual([expect.objectContaining({ state: 'active', acknowledgedBy: 'li' })]);
    b.clear('d1', 'printer-fault');
    expect(shown).toEqual([]); // seen and over
  });

  it('expires an event alarm that has no condition to watch', () => {
    const b = board();
    b.raise('gate-1', { code: 'gate.refused', message: 'fever', severity: 'warning' });
    vi.advanceTimersByTime(10_000);
    expect(shown).toEqual([expect.objectContaining({ code: 'gate.refused', state: 'cleared' })]);
    expect(journal.at(-1)).toEqual({ type: 'device.alarm.cleared', deviceId: 'gate-1', data: { code: 'gate.refused', reason: 'expired' } });
  });

  it('a restored event alarm keeps its expiry: nothing raises an event again, so the restart grace does not end it', () => {
    const before = board({ spec: (_device, code) => (code === 'gate.refused' ? { code, severity: 'warning', clearedWhen: 'x', operatorAction: 'y', expiresAfterMs: 600_000 } : undefined) });
    before.raise('gate-1', { code: 'gate.refused', message: 'fever', severity: 'warning' });
    before.stop();
    vi.advanceTimersByTime(60_000); // the restart
    const after = board();
    after.restore();
    vi.advanceTimersByTime(30_000); // the grace for restored alarms passes
    expect(shown.find((a) => a.code === 'gate.refused')).toMatchObject({ state: 'active', restored: true });
    vi.advanceTimersByTime(600_000 - 90_000 - 1);
    expect(shown.find((a) => a.code === 'gate.refused')).toMatchObject({ state: 'active' });
    vi.advanceTimersByTime(1); // ten minutes after it was raised: expired (and, shown that long, off the list)
    expect(shown.find((a) => a.code === 'gate.refused')).toBeUndefined();
    expect(journal.at(-1)).toMatchObject({ type: 'device.alarm.cleared', data: { code: 'gate.refused', reason: 'expired' } });
    after.stop();
  });

  it('restores what was shown after a restart; a restored alarm not raised again is cleared after the grace time', () => {
    const before = board();
    before.raise('gate-1', { code: 'gate.link-down', message: 'no answer', severity: 'critical' });
    before.raise('d1', fault);
    before.stop();
    expect(JSON.parse(readFileSync(join(dir, 'alarms.json'), 'utf8'))).toHaveLength(2);

    const after = board();
    after.restore();
    expect(shown.map((a) => [a.code, a.state, a.restored])).toEqual([
      ['gate.link-down', 'active', true],
      ['printer-fault', 'active', true],
    ]);
    after.raise('d1', fault); // the printer is still out: confirmed, no longer "restored"
    vi.advanceTimersByTime(30_000);
    expect(shown.find((a) => a.code === 'printer-fault')).toMatchObject({ state: 'active' });
    expect(shown.find((a) => a.code === 'printer-fault')?.restored).toBeUndefined();
    expect(shown.find((a) => a.code === 'gate.link-down')).toMatchObject({ state: 'cleared' });
    expect(journal.at(-1)).toMatchObject({ type: 'device.alarm.cleared', data: { code: 'gate.link-down', reason: 'not raised again after the restart' } });
    after.stop();
  });
});

describe('alarm catalog and docs/alarms.md', () => {
  const doc = readFileSync(new URL('../../docs/alarms.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((line) => /^\| [a-z(]/.test(line) && !line.startsWith('| device kind'));

  it('the table lists every alarm of every device kind, with its severity, and nothing else', () => {
    const documented = rows.map((row) => row.split('|').map((cell) => cell.trim())).filter((cells) => cells[1] !== '(uplink)').map((cells) => `${cells[1]} ${cells[2]!.replace(/`/g, '')} ${cells[3]}`);
    const catalogued = [...deviceKinds().values()].flatMap((kind) => kind.alarms.map((spec) => `${kind.kind} ${spec.code} ${spec.severity}`));
    expect(documented.sort()).toEqual(catalogued.sort());
  });

  it('every catalogued alarm has a clearing condition or an expiry, and an operator action', () => {
    for (const kind of deviceKinds().values()) {
      for (const spec of kind.alarms) {
        expect(spec.clearedWhen.length, `${spec.code} clearedWhen`).toBeGreaterThan(10);
        expect(spec.operatorAction.length, `${spec.code} operatorAction`).toBeGreaterThan(10);
      }
    }
    expect(alarmSpecMatches({ code: 'display-<address>-offline', severity: 'warning', clearedWhen: '', operatorAction: '' }, 'display-12-offline')).toBe(true);
  });
});
