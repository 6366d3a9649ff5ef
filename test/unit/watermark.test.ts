import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSlot, encodeSlot, readWatermark, SLOT_BYTES, WatermarkWriter, type WatermarkRecord } from '../../src/journal/watermark.js';
import { chooseWatermark, describeLoss, assessLoss } from '../../src/journal/loss.js';
import { Journal } from '../../src/journal/journal.js';
import { QueueEngine } from '../../src/queue/engine.js';
import type { HallEvent, SequencedEvent } from '../../src/queue/events.js';
import type { Ticket } from '../../src/queue/ticket.js';
import { silentLogger } from '../../src/platform/logger.js';
import { MONDAY_9AM, smallModel } from '../support/model.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'watermark-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const record = (over: Partial<WatermarkRecord> = {}): WatermarkRecord => ({ gen: 1, lastSeq: 10, day: '2026-11-23', tickets: { ss: 'A012' }, at: 1, ...over });

function issued(seq: number, number: string, serviceId: string, day = '2026-11-23'): SequencedEvent {
  const ticket = { number, day, serviceId, issuedServiceId: serviceId, channel: 'kiosk', priority: false, items: [], issuedAt: 1, order: seq, state: 'waiting', recalls: 0, transfers: 0 } as Ticket;
  return { type: 'ticket.issued', at: 1, day, seq, ticket };
}

describe('watermark file', () => {
  it('round-trips a record through a slot and refuses a slot whose bytes changed', () => {
    const slot = encodeSlot(record());
    expect(slot.length).toBe(SLOT_BYTES);
    expect(decodeSlot(slot)).toEqual(record());
    const flipped = Buffer.from(slot);
    flipped[40] = flipped[40]! ^ 0x01;
    expect(decodeSlot(flipped)).toMatch(/checksum|not a watermark/);
    expect(decodeSlot(Buffer.alloc(SLOT_BYTES, 0x20))).toBe('empty slot');
  });

  it('reads the newer slot, survives one damaged slot, and reports a file with none readable as damaged', () => {
    const file = join(tempDir(), 'journal.watermark');
    writeFileSync(file, Buffer.concat([encodeSlot(record({ gen: 4, lastSeq: 40 })), encodeSlot(record({ gen: 5, lastSeq: 50 }))]));
    const both = readWatermark(file);
    expect(both.status === 'ok' && both.record.lastSeq).toBe(50);
    expect(both.status === 'ok' && both.damagedSlot).toBe(false);

    // A write cut short by a power cut: the slot being written is garbage, the other still good.
    const torn = readFileSync(file);
    torn.fill(0x41, SLOT_BYTES + 10, SLOT_BYTES + 200);
    writeFileSync(file, torn);
    const one = readWatermark(file);
    expect(one.status === 'ok' && one.record.lastSeq).toBe(40);
    expect(one.status === 'ok' && one.damagedSlot).toBe(true);

    torn.fill(0x41, 10, 200);
    writeFileSync(file, torn);
    const none = readWatermark(file);
    expect(none.status).toBe('damaged');
    expect(none.status === 'damaged' && none.problem).toMatch(/neither copy/);

    truncateSync(file, 0);
    expect(readWatermark(file)).toMatchObject({ status: 'damaged', problem: expect.stringMatching(/empty/) });
    expect(readWatermark(join(tempDir(), 'nothing'))).toMatchObject({ status: 'missing' });
  });

  it('is kept current by the writer: last seq, and the day highest number per service, reset by a new day', async () => {
    const dir = tempDir();
    const path = join(dir, 'journal.watermark');
    const mirror = join(dir, 'usb', 'mirror.watermark');
    const writer = new WatermarkWriter({ path, mirror, log: silentLogger(), start: { lastSeq: 0, day: null, tickets: {}, gen: 1 } });
    writer.advance([{ type: 'day.started', at: 1, day: '2026-11-23', seq: 1 }, issued(2, 'A001', 'ss'), issued(3, 'B001', 'mi')]);
    writer.advance([issued(4, 'A002', 'ss')]);
    let read = readWatermark(path);
    expect(read.status === 'ok' && read.record).toMatchObject({ lastSeq: 4, day: '2026-11-23', tickets: { ss: 'A002', mi: 'B001' } });
    writer.advance([{ type: 'day.started', at: 2, day: '2026-11-24', seq: 5 }]);
    read = readWatermark(path);
    expect(read.status === 'ok' && read.record).toMatchObject({ lastSeq: 5, day: '2026-11-24', tickets: {} });
    await writer.flushMirror();
    const mirrored = readWatermark(mirror);
    expect(mirrored.status === 'ok' && mirrored.record.lastSeq).toBe(5);
    await writer.close();
  });

  it('takes the copy that is further ahead, and lists damaged copies without trusting them', () => {
    const check = chooseWatermark([
      { status: 'ok', file: 'a', record: record({ lastSeq: 7 }), damagedSlot: false },
      { status: 'ok', file: 'b', record: record({ lastSeq: 9 }), damagedSlot: true },
      { status: 'damaged', file: 'c', problem: 'x' },
    ]);
    expect(check.file).toBe('b');
    expect(check.damaged).toEqual([{ file: 'c', problem: 'x' }]);
    expect(check.damagedSlots).toEqual(['b']);
  });
});

describe('journal loss', () => {
  it('names the lost seqs and ticket ranges of a journal behind its watermark', () => {
    const dir = tempDir();
    const journal = Journal.open(join(dir, 'journal.db'), silentLogger());
    try {
      const events: HallEvent[] = [{ type: 'day.started', at: 1, day: '2026-11-23' }, issued(0, 'A001', 'ss'), issued(0, 'A002', 'ss')].map(({ ...e }) => {
        delete (e as { seq?: number }).seq;
        return e as HallEvent;
      });
      journal.append(events);
      expect(assessLoss(journal, record({ lastSeq: 3, tickets: { ss: 'A002' } }), 'w')).toBeUndefined();
      const loss = assessLoss(journal, record({ lastSeq: 9, tickets: { ss: 'A007', mi: 'B003' } }), 'w')!;
      expect(loss.lostSeq).toEqual({ from: 4, to: 9 });
      expect(loss.lostTickets).toEqual([
        { serviceId: 'ss', from: 'A003', to: 'A007' },
        { serviceId: 'mi', from: 'B001', to: 'B003' },
      ]);
      expect(loss.numberFloors).toEqual({ ss: 7, mi: 3 });
      expect(describeLoss(loss)).toBe('seq 4..9, tickets A003..A007, B001..B003 of 2026-11-23');
    } finally {
      journal.close();
    }
  });
});

describe('queue engine numbering floor', () => {
  function engineAfterLoss(floors: Record<string, number>, watermarkDay: string | null) {
    const engine = new QueueEngine(smallModel());
    const log: HallEvent[] = [];
    const day = engine.calendar.businessDay(MONDAY_9AM);
    engine.run({ type: 'tick' }, MONDAY_9AM, (events) => log.push(...events));
    engine.run(
      { type: 'record-journal-loss', loss: { lostSeq: { from: 2, to: 9 }, lostTickets: [], numberFloors: floors, watermarkDay: watermarkDay ?? day, detail: 'test' } },
      MONDAY_9AM,
      (events) => log.push(...events),
    );
    const issue = (serviceId: string) => {
      const events = engine.run({ type: 'issue', serviceId, channel: 'kiosk' }, MONDAY_9AM, (e) => log.push(...e));
      const ticket = events.find((e) => e.type === 'ticket.issued');
      return ticket?.type === 'ticket.issued' ? ticket.ticket.number : undefined;
    };
    return { engine, log, issue, day };
  }

  it('numbers above the floor of the lost tickets, and replaying the journal gives the same', () => {
    const { issue, log } = engineAfterLoss({ ss: 153, mi: 2 }, null);
    expect(issue('ss')).toBe('A154');
    expect(issue('mi')).toBe('B003');
    expect(issue('rt')).toBe('C01');
    const replayed = new QueueEngine(smallModel());
    for (const event of log) replayed.apply(event);
    expect(replayed.issuedCount('ss')).toBe(154);
    expect(replayed.issuedCount('mi')).toBe(3);
  });

  it('ignores floors of another day (numbers restart every day) and never lowers a counter', () => {
    const other = engineAfterLoss({ ss: 153 }, '2020-01-01');
    expect(other.issue('ss')).toBe('A001');
    const { engine, issue } = engineAfterLoss({}, null);
    issue('ss');
    issue('ss');
    engine.apply({ type: 'journal.loss', at: MONDAY_9AM, day: engine.currentDay()!, watermarkDay: engine.currentDay()!, lostSeq: { from: 1, to: 1 }, lostTickets: [], numberFloors: { ss: 1 }, detail: '' });
    expect(issue('ss')).toBe('A003');
  });
});
