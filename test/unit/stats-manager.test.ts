import { describe, expect, it } from 'vitest';
import type { HallEvent } from '../../src/queue/events.js';
import type { Ticket } from '../../src/queue/ticket.js';
import { computeDayStats } from '../../src/queue/stats.js';
import { MINUTE, MONDAY_9AM, smallModel } from '../support/model.js';

/** The figures a hall manager acts on: matters, punctuality of appointments, exact means. */

const DAY = '2026-11-23';
const t = (minutes: number) => MONDAY_9AM + minutes * MINUTE;

function issued(number: string, at: number, extra: Partial<Ticket> = {}): HallEvent {
  const ticket: Ticket = { number, day: DAY, serviceId: 'ss', issuedServiceId: 'ss', channel: 'kiosk', priority: false, items: [], issuedAt: at, order: at, state: 'waiting', recalls: 0, transfers: 0, ...extra };
  return { type: 'ticket.issued', at, day: DAY, ticket };
}
const called = (number: string, at: number): HallEvent => ({ type: 'ticket.called', at, day: DAY, number, windowId: 'w1', staffId: 's1', reason: 'next' });
const finished = (number: string, at: number): HallEvent => ({ type: 'ticket.finished', at, day: DAY, number, windowId: 'w1', staffId: 's1' });

describe('manager figures', () => {
  it('counts matters (items) served beside tickets', () => {
    const stats = computeDayStats(smallModel(), [
      issued('A001', t(0), { items: ['pension transfer', 'card loss', 'address change'] }),
      issued('A002', t(1)),
      issued('A003', t(2), { items: ['one'] }),
      called('A001', t(3)),
      finished('A001', t(4)),
      called('A002', t(5)),
      finished('A002', t(6)),
    ]);
    expect(stats.total.served).toBe(2);
    expect(stats.total.itemsServed).toBe(4);
    expect(stats.byService.ss!.itemsServed).toBe(4);
    expect(stats.byWindow.w1!.itemsServed).toBe(4);
    expect(stats.byStaff.s1!.itemsServed).toBe(4);
  });

  it('judges appointments by their slot: late by call − slot start, on time within the tolerance', () => {
    const slot = (start: number) => ({ appointment: { slotStart: t(start), slotEnd: t(start + 30) }, channel: 'appointment' as const });
    const events = [
      issued('Y001', t(0), slot(10)),
      issued('Y002', t(1), slot(20)),
      issued('Y003', t(2), slot(30)),
      issued('A001', t(3)),
      called('Y001', t(12)), // 2 min late
      called('Y002', t(19)), // 1 min early
      called('Y003', t(40)), // 10 min late: beyond 5
      called('A001', t(41)),
    ];
    const appointments = computeDayStats(smallModel(), events).total.appointments;
    expect(appointments).toEqual({ called: 3, meanLateSeconds: 220, p90LateSeconds: 600, onTime: 2, onTimeRate: 0.6667 });
    // The tolerance is the hall's policy.
    const strict = computeDayStats(smallModel({ policy: { appointmentOnTimeMinutes: 1 } }), events);
    expect(strict.total.appointments.onTime).toBe(1);
    expect(strict.appointmentOnTimeMinutes).toBe(1);
  });

  it('sums durations in integer milliseconds: two waits of 1.15 s have a mean of 1.2 s, not 1.1', () => {
    // In decimal seconds, (1.15 + 1.15) / 2 * 10 = 11.499999… and rounds down.
    const stats = computeDayStats(smallModel(), [issued('A001', t(0)), issued('A002', t(0)), called('A001', t(0) + 1150), called('A002', t(0) + 1150)]);
    expect(stats.total.waiting.mean).toBe(1.2);
    expect(stats.total.waiting.p50).toBe(1.15);
  });

  it('gives the satisfaction share: 4-5 of the rated, time-outs not counted', () => {
    const events: HallEvent[] = [];
    const ratings = [5, 4, 3, 1, undefined] as const;
    ratings.forEach((rating, i) => {
      const number = `A00${i + 1}`;
      events.push(issued(number, t(i * 10)), called(number, t(i * 10 + 1)), finished(number, t(i * 10 + 2)));
      events.push({ type: 'ticket.rated', at: t(i * 10 + 3), day: DAY, number, windowId: 'w1', staffId: 's1', rating, timedOut: rating === undefined });
    });
    const stats = computeDayStats(smallModel(), events);
    expect(stats.total.ratings.satisfaction).toBe(0.5);
    expect(stats.poorRatings).toEqual([{ number: 'A004', serviceId: 'ss', windowId: 'w1', staffId: 's1', at: t(33), rating: 1 }]);
  });
});
