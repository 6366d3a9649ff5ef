import { describe, expect, it } from 'vitest';
import type { HallEvent } from '../../src/queue/events.js';
import type { Ticket } from '../../src/queue/ticket.js';
import { StatsAccumulator, computeDayStats, estimateWaitMinutes, type Figures } from '../../src/queue/stats.js';
import { MINUTE, MONDAY_9AM, smallModel } from '../support/model.js';

const DAY = '2026-11-23';
/** Minutes after 09:00 Shanghai on the test Monday. */
const t = (minutes: number) => MONDAY_9AM + minutes * MINUTE;

function issue(number: string, serviceId: string, minutes: number): HallEvent {
  const ticket: Ticket = {
    number,
    day: DAY,
    serviceId,
    issuedServiceId: serviceId,
    channel: 'kiosk',
    priority: false,
    items: [],
    issuedAt: t(minutes),
    order: minutes,
    state: 'waiting',
    recalls: 0,
    transfers: 0,
  };
  return { type: 'ticket.issued', at: t(minutes), day: DAY, ticket };
}

const called = (number: string, windowId: string, staffId: string, minutes: number): HallEvent => ({ type: 'ticket.called', at: t(minutes), day: DAY, number, windowId, staffId, reason: 'next' });
const started = (number: string, windowId: string, minutes: number): HallEvent => ({ type: 'ticket.started', at: t(minutes), day: DAY, number, windowId });
const finished = (number: string, windowId: string, staffId: string, minutes: number): HallEvent => ({ type: 'ticket.finished', at: t(minutes), day: DAY, number, windowId, staffId });
const rated = (number: string, windowId: string, staffId: string, minutes: number, rating?: 1 | 2 | 3 | 4 | 5): HallEvent => ({
  type: 'ticket.rated',
  at: t(minutes),
  day: DAY,
  number,
  windowId,
  staffId,
  rating,
  timedOut: rating === undefined,
});
const gate = (minutes: number, decision: string, reason?: string): HallEvent => ({ type: 'device.gate.decision', at: t(minutes), day: DAY, deviceId: 'gate-1', data: reason ? { decision, reason } : { decision } });

/** A morning with every kind of step; the figures below are worked out by hand from it. */
const MORNING: HallEvent[] = [
  { type: 'day.started', at: t(0), day: DAY },
  { type: 'window.opened', at: t(0), day: DAY, windowId: 'w1', staffId: 's1' },
  { type: 'window.opened', at: t(0), day: DAY, windowId: 'w2', staffId: 's2' },
  issue('A001', 'ss', 0),
  issue('A002', 'ss', 1),
  issue('B001', 'mi', 2),
  gate(3, 'pass'),
  gate(3, 'pass'),
  gate(4, 'refuse', 'fever'),
  // A001: waits 5 min, handled 10 min from start, rated 5.
  called('A001', 'w1', 's1', 5),
  started('A001', 'w1', 6),
  // A002: called at w2, recalled, skipped, put back, called again at w1 (the wait is not counted
  // again), finished without a start: handled from the last call (3 min); rating times out.
  called('A002', 'w2', 's2', 6),
  { type: 'ticket.recalled', at: t(7), day: DAY, number: 'A002', windowId: 'w2', recalls: 1 },
  { type: 'ticket.skipped', at: t(8), day: DAY, number: 'A002', windowId: 'w2' },
  { type: 'ticket.requeued', at: t(10), day: DAY, number: 'A002', order: 99 },
  // B001: waits 10 min for medical insurance, is transferred to social security at w1.
  called('B001', 'w2', 's2', 12),
  { type: 'ticket.transferred', at: t(13), day: DAY, number: 'B001', fromServiceId: 'mi', toServiceId: 'ss', fromWindowId: 'w2', toWindowId: 'w1' },
  finished('A001', 'w1', 's1', 16),
  rated('A001', 'w1', 's1', 16, 5),
  called('A002', 'w1', 's1', 17),
  finished('A002', 'w1', 's1', 20),
  rated('A002', 'w1', 's1', 21),
  issue('A003', 'ss', 20),
  called('B001', 'w1', 's1', 21),
  started('B001', 'w1', 22),
  { type: 'ticket.voided', at: t(25), day: DAY, number: 'A003', reason: 'duplicate' },
  issue('A004', 'ss', 30),
  issue('A005', 'ss', 31),
  finished('B001', 'w1', 's1', 32),
  rated('B001', 'w1', 's1', 32, 2),
  // Ignored: a second rating of the same ticket, and a rating of a ticket never issued today.
  rated('B001', 'w1', 's1', 33, 4),
  rated('Z999', 'w2', 's2', 33, 1),
  gate(40, 'refuse', 'fever'),
  gate(41, 'refuse'),
  gate(42, 'pass'),
  { type: 'ticket.expired', at: t(8 * 60 + 30), day: DAY, number: 'A004' },
  { type: 'day.closed', at: t(8 * 60 + 30), day: DAY, expired: 1 },
];

const summary = (count: number, mean: number, p50: number, p90: number, max: number) => ({ count, mean, p50, p90, max });
const split = (s: Partial<Record<'1' | '2' | '3' | '4' | '5', number>>) => ({ '1': 0, '2': 0, '3': 0, '4': 0, '5': 0, ...s });

function figures(overrides: Partial<Figures>): Figures {
  return {
    issued: 0,
    served: 0,
    itemsServed: 0,
    noShows: 0,
    requeued: 0,
    transfersIn: 0,
    transfersOut: 0,
    voided: 0,
    expired: 0,
    recalls: 0,
    open: 0,
    waiting: summary(0, 0, 0, 0, 0),
    secondWaits: { afterTransfer: summary(0, 0, 0, 0, 0), afterRequeue: summary(0, 0, 0, 0, 0) },
    handling: summary(0, 0, 0, 0, 0),
    appointments: { called: 0, meanLateSeconds: 0, p90LateSeconds: 0, onTime: 0, onTimeRate: 0 },
    ratings: { rated: 0, timedOut: 0, split: split({}), rate: 0, satisfaction: 0 },
    ...overrides,
  };
}

describe('day statistics', () => {
  const model = smallModel();
  const stats = computeDayStats(model, MORNING);

  it('totals the hall', () => {
    expect(stats.day).toBe(DAY);
    expect(stats.generatedAt).toBe(t(8 * 60 + 30));
    expect(stats.total).toEqual(
      figures({
        issued: 6,
        served: 3,
        noShows: 1,
        requeued: 1,
        transfersIn: 1,
        transfersOut: 1,
        voided: 1,
        expired: 1,
        recalls: 1,
        open: 1,
        itemsServed: 3,
        waiting: summary(3, 400, 300, 600, 600),
        secondWaits: { afterTransfer: summary(1, 480, 480, 480, 480), afterRequeue: summary(1, 420, 420, 420, 420) },
        // B001's minute at w2 before its transfer is part of its handling: 600 + 180 + (60 + 600).
        handling: summary(3, 480, 600, 660, 660),
        ratings: { rated: 2, timedOut: 1, split: split({ '5': 1, '2': 1 }), rate: 2 / 3, satisfaction: 0.5 },
      }),
    );
  });

  it('attributes to the service the ticket had at the time', () => {
    expect(stats.byService.ss).toEqual(
      figures({
        issued: 5,
        served: 3,
        noShows: 1,
        requeued: 1,
        transfersIn: 1,
        voided: 1,
        expired: 1,
        recalls: 1,
        open: 1,
        itemsServed: 3,
        waiting: summary(2, 300, 300, 300, 300),
        secondWaits: { afterTransfer: summary(1, 480, 480, 480, 480), afterRequeue: summary(1, 420, 420, 420, 420) },
        handling: summary(3, 480, 600, 660, 660),
        ratings: { rated: 2, timedOut: 1, split: split({ '5': 1, '2': 1 }), rate: 2 / 3, satisfaction: 0.5 },
      }),
    );
    expect(stats.byService.mi).toEqual(figures({ issued: 1, transfersOut: 1, waiting: summary(1, 600, 600, 600, 600) }));
    // Configured but idle services still appear, with zeros.
    expect(stats.byService.rt).toEqual(figures({}));
  });

  it('attributes to the window and staff member where it happened', () => {
    const w1 = figures({
      served: 3,
      itemsServed: 3,
      transfersIn: 1,
      waiting: summary(1, 300, 300, 300, 300),
      secondWaits: { afterTransfer: summary(1, 480, 480, 480, 480), afterRequeue: summary(1, 420, 420, 420, 420) },
      // Each window counts the part served at it.
      handling: summary(3, 460, 600, 600, 600),
      ratings: { rated: 2, timedOut: 1, split: split({ '5': 1, '2': 1 }), rate: 2 / 3, satisfaction: 0.5 },
    });
    // B001 was at w2's counter for a minute before w2 transferred it.
    const w2 = figures({ recalls: 1, noShows: 1, transfersOut: 1, waiting: summary(2, 450, 300, 600, 600), handling: summary(1, 60, 60, 60, 60) });
    expect(stats.byWindow.w1).toEqual(w1);
    expect(stats.byWindow.w2).toEqual(w2);
    expect(stats.byWindow.w3).toEqual(figures({}));
    // A transfer to a window is not yet anyone's: staff get transfersOut only.
    expect(stats.byStaff).toEqual({ s1: { ...w1, transfersIn: 0 }, s2: w2 });
  });

  it('counts arrivals, services and waits per local quarter hour', () => {
    expect(stats.perQuarter).toEqual([
      { start: '09:00', issued: 3, served: 0, meanWaitSeconds: 400 },
      { start: '09:15', issued: 1, served: 2, meanWaitSeconds: 0 },
      { start: '09:30', issued: 2, served: 1, meanWaitSeconds: 0 },
    ]);
  });

  it('fills quiet quarters so the series is a time axis', () => {
    const quiet = computeDayStats(model, [issue('A001', 'ss', 0), issue('A002', 'ss', 50)]);
    expect(quiet.perQuarter.map((q) => [q.start, q.issued])).toEqual([
      ['09:00', 1],
      ['09:15', 0],
      ['09:30', 0],
      ['09:45', 1],
    ]);
  });

  it('uses the hall time zone for quarter labels', () => {
    const berlin = { ...model, clock: { ...model.clock, timeZone: 'Europe/Berlin' } };
    // 01:00 UTC on 23 Nov is 02:00 in Berlin (CET, UTC+1).
    expect(computeDayStats(berlin, [issue('A001', 'ss', 0)]).perQuarter[0]!.start).toBe('02:00');
  });

  it('lists the poor ratings (1-2) for the same-day follow-up, with ticket, service, window, staff and time', () => {
    expect(stats.poorRatings).toEqual([{ number: 'B001', serviceId: 'ss', windowId: 'w1', staffId: 's1', at: t(32), rating: 2 }]);
  });

  it('counts gate entries and refusals by reason', () => {
    expect(stats.gate).toEqual({ entries: 3, refusals: { fever: 2, unspecified: 1 } });
  });

  it('ignores events about unknown or finished tickets, and says how many', () => {
    const accumulator = new StatsAccumulator(model);
    for (const event of MORNING) accumulator.apply(event);
    expect(accumulator.ignored).toBe(2);
    accumulator.apply(finished('A001', 'w1', 's1', 40)); // already finished
    accumulator.apply(called('Q001', 'w1', 's1', 40));
    expect(accumulator.ignored).toBe(4);
    expect(accumulator.snapshot(t(41)).total.served).toBe(3);
  });

  it('gives the same figures built event by event as computed at once', () => {
    const accumulator = new StatsAccumulator(model);
    for (const event of MORNING) accumulator.apply(event);
    expect(accumulator.snapshot(stats.generatedAt)).toEqual(stats);
    expect(accumulator.handling('ss')).toEqual({ count: 3, meanSeconds: 480 });
    expect(accumulator.handling('nope')).toEqual({ count: 0, meanSeconds: 0 });
  });

  it('survives a JSON round trip unchanged (it is stored and published as JSON)', () => {
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
  });

  it('is empty but well-formed for an empty day', () => {
    const empty = new StatsAccumulator(model).snapshot(t(0));
    expect(empty.total).toEqual(figures({}));
    expect(empty.perQuarter).toEqual([]);
    expect(empty.gate).toEqual({ entries: 0, refusals: {} });
  });
});

describe('estimateWaitMinutes', () => {
  it('uses the configured average until the day has its own', () => {
    expect(estimateWaitMinutes({ ahead: 4, defaultHandlingMinutes: 8, activeWindows: 2 })).toBe(16);
    expect(estimateWaitMinutes({ ahead: 4, meanHandlingSeconds: 300, defaultHandlingMinutes: 8, activeWindows: 2 })).toBe(10);
  });

  it('rounds up and never divides by fewer than one window', () => {
    expect(estimateWaitMinutes({ ahead: 1, meanHandlingSeconds: 90, defaultHandlingMinutes: 8, activeWindows: 1 })).toBe(2);
    expect(estimateWaitMinutes({ ahead: 3, defaultHandlingMinutes: 5, activeWindows: 0 })).toBe(15);
  });

  it('is zero with nobody ahead and tolerates nonsense input', () => {
    expect(estimateWaitMinutes({ ahead: 0, defaultHandlingMinutes: 8, activeWindows: 1 })).toBe(0);
    expect(estimateWaitMinutes({ ahead: Number.NaN, defaultHandlingMinutes: 8, activeWindows: 1 })).toBe(0);
    expect(estimateWaitMinutes({ ahead: 2, meanHandlingSeconds: Number.NaN, defaultHandlingMinutes: 8, activeWindows: Number.NaN })).toBe(16);
  });
});
