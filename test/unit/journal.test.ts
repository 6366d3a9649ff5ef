import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDLE_CHECKPOINT_AFTER_COMMITS, Journal, JournalError } from '../../src/journal/journal.js';
import { eventually } from '../support/eventually.js';
import { silentLogger } from '../../src/platform/logger.js';
import type { HallEvent } from '../../src/queue/events.js';
import type { Ticket } from '../../src/queue/ticket.js';
import { computeDayStats } from '../../src/queue/stats.js';
import { smallModel } from '../support/model.js';

const log = silentLogger();
const DAY1 = '2026-11-23';
const DAY2 = '2026-11-24';
const AT = Date.UTC(2026, 10, 23, 1, 0, 0);

function ticket(number: string, day = DAY1, at = AT): Ticket {
  return { number, day, serviceId: 'ss', issuedServiceId: 'ss', channel: 'kiosk', priority: false, items: [], issuedAt: at, order: 1, state: 'waiting', recalls: 0, transfers: 0 };
}

function issued(number: string, day = DAY1, at = AT): HallEvent {
  return { type: 'ticket.issued', at, day, ticket: ticket(number, day, at) };
}

describe('Journal', () => {
  let dir: string;
  let path: string;
  const opened: Journal[] = [];
  const children: ChildProcess[] = [];

  const open = (file = path): Journal => {
    const journal = Journal.open(file, log, { lockTimeoutMs: 0 });
    opened.push(journal);
    return journal;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    path = join(dir, 'state', 'nested', 'journal.db');
  });

  afterEach(() => {
    for (const journal of opened.splice(0)) journal.close();
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips events with gap-free seqs, creating parent directories', () => {
    const journal = open();
    expect(journal.lastSeq()).toBe(0);
    expect(journal.currentDay()).toBeUndefined();
    const first = journal.append([{ type: 'day.started', at: AT, day: DAY1 }, issued('A001')]);
    const second = journal.append([{ type: 'ticket.called', at: AT + 1000, day: DAY1, number: 'A001', windowId: 'w1', staffId: 's1', reason: 'next' }]);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    expect(second.map((e) => e.seq)).toEqual([3]);
    expect(journal.lastSeq()).toBe(3);
    expect(journal.currentDay()).toBe(DAY1);
    expect(journal.readDay(DAY1)).toEqual([...first, ...second]);
    expect(journal.readSince(1)).toEqual([first[1], second[0]]);
    expect(journal.readSince(0, 2).map((e) => e.seq)).toEqual([1, 2]);
    expect(journal.readSince(3)).toEqual([]);
  });

  it('checkpoints the WAL itself once idle after enough commits, not inside a commit', async () => {
    const journal = open();
    for (let i = 0; i < IDLE_CHECKPOINT_AFTER_COMMITS - 1; i++) journal.append([issued(`A${String(i).padStart(3, '0')}`)]);
    journal.batch(() => journal.append([issued('B001')]));
    await eventually(() => journal.idleCheckpoints() === 1, 'the idle checkpoint');
    // Copied: the WAL had frames and all of them are in the main file now.
    const { walFrames, checkpointed } = journal.checkpoint();
    expect(checkpointed).toBe(walFrames);
    journal.close();
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT count(*) FROM events').pluck().get()).toBe(IDLE_CHECKPOINT_AFTER_COMMITS);
    reader.close();
  });

  it('keeps seq gap-free across close and reopen', () => {
    let journal = open();
    journal.append([issued('A001'), issued('A002')]);
    journal.close();
    journal = open();
    expect(journal.lastSeq()).toBe(2);
    expect(journal.currentDay()).toBe(DAY1);
    const more = journal.append([issued('A003', DAY2)]);
    expect(more[0]!.seq).toBe(3);
    journal.close();
    journal = open();
    expect(journal.readSince(0).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(journal.currentDay()).toBe(DAY2);
  });

  it('writes nothing of a batch with a bad event, and seq does not move', () => {
    const journal = open();
    journal.append([issued('A001')]);
    const bad = { type: 'ticket.voided', at: Number.NaN, day: DAY1, number: 'A001', reason: 'x' } as HallEvent;
    expect(() => journal.append([issued('A002'), bad])).toThrow(/event 1 of the batch was refused.*nothing of the batch was written/);
    const badDay = { ...issued('A003'), day: '23/11/2026' } as HallEvent;
    expect(() => journal.append([badDay])).toThrow(JournalError);
    expect(journal.lastSeq()).toBe(1);
    expect(journal.readDay(DAY1).map((e) => e.seq)).toEqual([1]);
    expect(journal.append([issued('A004')])[0]!.seq).toBe(2);
  });

  it('rolls back a batch when the database refuses a row mid-transaction', () => {
    const journal = open();
    journal.append([issued('A001')]);
    // A BigInt passes the envelope check but cannot be serialised: fails inside encode, before SQL.
    const unserialisable = { type: 'device.printer.fault', at: AT, day: DAY1, deviceId: 'p1', data: { big: 1n } } as unknown as HallEvent;
    expect(() => journal.append([issued('A002'), unserialisable])).toThrow(/cannot be stored as JSON/);
    expect(journal.lastSeq()).toBe(1);
    journal.close();
    // Now a failure inside SQLite itself: a trigger that aborts on the second row of a batch.
    const db = new Database(path);
    db.exec("CREATE TRIGGER refuse_a003 BEFORE INSERT ON events WHEN json_extract(NEW.body, '$.ticket.number') = 'A003' BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    db.close();
    const reopened = open();
    expect(() => reopened.append([issued('A002'), issued('A003')])).toThrow(/refused by test/);
    expect(reopened.lastSeq()).toBe(1);
    expect(reopened.readSince(0).map((e) => e.seq)).toEqual([1]);
    expect(reopened.append([issued('A004')])[0]!.seq).toBe(2);
  });

  it('reads one day without the others and lists days in order', () => {
    const journal = open();
    journal.append([issued('A001', DAY2), issued('A001', DAY1)]);
    journal.append([issued('A002', DAY2), { type: 'day.started', at: AT, day: '2026-11-25' }]);
    expect(journal.readDay(DAY1).map((e) => e.seq)).toEqual([2]);
    expect(journal.readDay(DAY2).map((e) => e.seq)).toEqual([1, 3]);
    expect(journal.readDay('2026-01-01')).toEqual([]);
    expect(journal.days()).toEqual([DAY1, DAY2, '2026-11-25']);
    expect(journal.currentDay()).toBe('2026-11-25');
  });

  it('uses the day index for readDay', () => {
    open().close();
    const db = new Database(path);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT seq, body FROM events WHERE day = ? ORDER BY seq").all(DAY1) as Array<{ detail: string }>;
    db.close();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX events_by_day/);
  });

  it('saves and loads daily statistics, replacing a day on a second save', () => {
    const journal = open();
    const stats = computeDayStats(smallModel(), [issued('A001')]);
    expect(journal.dailyStats(DAY1)).toBeUndefined();
    journal.saveDailyStats(DAY1, stats);
    expect(journal.dailyStats(DAY1)).toEqual(stats);
    journal.saveDailyStats(DAY1, { ...stats, generatedAt: 42 });
    journal.close();
    expect(open().dailyStats(DAY1)?.generatedAt).toBe(42);
    expect(() => opened.at(-1)!.saveDailyStats('yesterday', stats)).toThrow(/YYYY-MM-DD/);
  });

  it('refuses a garbage file with an error naming it', () => {
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'this is not a database at all, just some text that happens to be long enough '.repeat(100));
    const attempt = () => open(garbage);
    expect(attempt).toThrow(JournalError);
    expect(attempt).toThrow(new RegExp(`${garbage}.*not a hall-edge journal`));
  });

  it('refuses an SQLite database that is not a journal', () => {
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
    expect(() => open(other)).toThrow(/is an SQLite database but not a hall-edge journal/);
  });

  it('refuses a journal written by a newer version', () => {
    open().close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => open()).toThrow(/newer hall-edge \(schema 99/);
  });

  it('reports a corrupt file clearly', () => {
    const journal = open();
    for (let i = 0; i < 50; i++) journal.append([issued(`A${String(i).padStart(3, '0')}`)]);
    journal.close();
    // Clobber the b-tree pages after the header page: the header still says "SQLite".
    const db = new Database(path);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize * 3, 0xa5), 0, pageSize * 3, pageSize);
    closeSync(fd);
    // Found at open (the tail of the seq index is read there), with advice, not a raw SQLite code.
    expect(() => open()).toThrow(new RegExp(`journal ${path} is damaged: a damaged page .*hall-edge journal recover`));
  });

  it('refuses a second open in the same process', () => {
    open();
    expect(() => open()).toThrow(/locked by another process/);
  });

  it('refuses a second daemon, and a SIGKILLed owner leaves no stale lock', async () => {
    open().close();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
         const db = new Database(process.argv[1]);
         db.pragma('locking_mode = EXCLUSIVE'); db.pragma('journal_mode = WAL');
         db.prepare("INSERT INTO meta (key, value) VALUES ('holder', 'x') ON CONFLICT (key) DO UPDATE SET value = 'y'").run();
         console.log('holding'); setInterval(() => {}, 1000);`,
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(holder);
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
      holder.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    expect(() => open()).toThrow(/journal .* is locked by another process.*another hall-edge daemon/);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    const journal = open();
    expect(journal.append([issued('A001')])[0]!.seq).toBe(1);
  });

  it('refuses work after close', () => {
    const journal = open();
    journal.close();
    expect(() => journal.append([issued('A001')])).toThrow(/is closed/);
    expect(() => journal.close()).not.toThrow();
  });
});
