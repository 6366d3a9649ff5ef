import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { RequestOutcomes } from '../../src/journal/request-outcomes.js';
import { silentLogger } from '../../src/platform/logger.js';
import type { HallEvent } from '../../src/queue/events.js';

const DAY1 = '2026-11-23';
const DAY2 = '2026-11-24';
const AT = Date.UTC(2026, 10, 23, 1, 0, 0);
const started = (day: string): HallEvent => ({ type: 'day.started', at: AT, day });

describe('request outcomes in the journal file', () => {
  let dir: string;
  let journal: Journal;
  let outcomes: RequestOutcomes;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-outcomes-'));
    journal = Journal.open(join(dir, 'journal.db'), silentLogger());
    outcomes = journal.attach((db) => new RequestOutcomes(db));
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits with the events, and survives a reopen', () => {
    const key = { day: DAY1, principal: 'op', transaction: 't1' };
    journal.append([started(DAY1)], (events) => outcomes.write(key, 'issue', { seq: events[0]!.seq }, AT));
    journal.close();
    journal = Journal.open(join(dir, 'journal.db'), silentLogger());
    outcomes = journal.attach((db) => new RequestOutcomes(db));
    expect(outcomes.find(key)).toEqual({ command: 'issue', outcome: { seq: 1 } });
    // "1" and 1 are different transactions; another user's t1 is another request.
    expect(outcomes.find({ ...key, transaction: 1 })).toBeUndefined();
    expect(outcomes.find({ ...key, principal: 'admin' })).toBeUndefined();
  });

  it('is rolled back with the events: a batch that fails stores no outcome', () => {
    const key = { day: DAY1, principal: 'op', transaction: 't2' };
    const bad = { type: 'ticket.issued', at: AT, day: 'not-a-day' } as unknown as HallEvent;
    expect(() => journal.append([started(DAY1), bad], () => outcomes.write(key, 'issue', 'answer', AT))).toThrow();
    expect(outcomes.find(key)).toBeUndefined();
    // And an outcome that cannot be stored takes the events down with it.
    expect(() =>
      journal.append([started(DAY1)], () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(journal.lastSeq()).toBe(0);
    expect(journal.readDay(DAY1)).toEqual([]);
  });

  it('replaces an outcome of the same request and prunes past days', () => {
    const old = { day: DAY1, principal: 'kiosk-1', transaction: 'p' };
    outcomes.write(old, 'issue', { ok: true }, AT);
    outcomes.write(old, 'issue', { ok: false, code: 'print-failed' }, AT);
    expect(outcomes.find(old)?.outcome).toEqual({ ok: false, code: 'print-failed' });
    const today = { ...old, day: DAY2 };
    expect(outcomes.find(today)).toBeUndefined();
    outcomes.write(today, 'issue', { ok: true }, AT);
    expect(outcomes.pruneBefore(DAY2)).toBe(1);
    expect(outcomes.find(old)).toBeUndefined();
    expect(outcomes.size()).toBe(1);
  });
});
