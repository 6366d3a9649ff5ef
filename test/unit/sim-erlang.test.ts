import { describe, expect, it } from 'vitest';
import type { QueueModel } from '../../src/queue/model.js';
import { localToEpoch } from '../../src/sim/local-time.js';
import { Random } from '../../src/sim/random.js';
import { simulateDay } from '../../src/sim/simulator.js';
import type { Staffing } from '../../src/sim/staffing.js';
import type { SimVisitor } from '../../src/sim/visitor.js';

/**
 * Validation against queueing theory. A stationary single-service hall — Poisson arrivals, c
 * identical windows, exponential counter times, first come first served, everyone answers their
 * first call at once — is the M/M/c queue, whose waiting time the Erlang C formula gives exactly:
 *   P(wait > 0) = C(c, a),  E[wait] = C / (cμ − λ),  P(wait > t) = C · e^{−(cμ − λ) t}.
 * The simulator runs the hall's real QueueEngine; if its call-next, its lines or the simulator's
 * event loop mis-ordered, delayed or lost anyone, these would disagree.
 *
 * Tolerance (stated before measuring): mean wait within 5 % of E[wait]; each P(wait > t) within
 * 0.015 of the formula. Over 60 seeded days × 19 measured hours (~27,000 waits) the sampling
 * error of these is a few times smaller (the runs are seeded, so the test is deterministic).
 */

const C = 4;
const MEAN_HANDLING_MIN = 8;
const LAMBDA_PER_MIN = 0.4; // ρ = λ / (cμ) = 0.8
const DAYS = 60;
const WARM_UP_MIN = 60; // the hall opens empty; waits of the first hour are not stationary
const ARRIVALS_UNTIL_MIN = 20 * 60;

function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1; // k = 0
  for (let k = 1; k < c; k += 1) {
    term *= a / k;
    sum += term;
  }
  const top = ((term * a) / c) * (c / (c - a)); // a^c / c! · c / (c − a)
  return top / (sum + top);
}

function model(): QueueModel {
  return {
    hallId: 'mmc',
    services: [{ id: 's', prefix: 'A', digits: 4, name: { zh: '服务', en: 'Service' }, averageHandlingMinutes: MEAN_HANDLING_MIN }],
    windows: Array.from({ length: C }, (_, i) => ({
      id: `w${i + 1}`,
      number: i + 1,
      name: { zh: `${i + 1}号窗口`, en: `Window ${i + 1}` },
      skills: [{ serviceId: 's', weight: 1 }],
      skillMode: 'preference' as const,
      priorityWindow: false,
      schedule: [],
    })),
    policy: { recallLimit: 2, priorityServedBy: 'all-windows', priorityGuard: 0, requeuePlace: 'back', appointmentEarlyMinutes: 0, enforceWindowSchedule: false },
    // Open all day (00:00-24:00): no closing time cuts the day short.
    clock: { timeZone: 'Asia/Shanghai', dayStartsAt: 0, openDays: [0, 1, 2, 3, 4, 5, 6], open: 0, close: 24 * 60 },
  };
}

describe('simulated M/M/c hall against Erlang C', () => {
  it('mean wait and P(wait > t) agree with the formula within the stated tolerance', () => {
    const m = model();
    const waits: number[] = [];
    for (let day = 0; day < DAYS; day += 1) {
      const date = `2026-03-${String((day % 28) + 1).padStart(2, '0')}`;
      const midnight = localToEpoch(date, 0, m.clock.timeZone);
      const random = new Random(1000 + day);
      const arrivals = random.stream('arrivals');
      const handling = random.stream('handling');
      const visitors: SimVisitor[] = [];
      for (let t = arrivals.exponential(1 / LAMBDA_PER_MIN); t < ARRIVALS_UNTIL_MIN; t += arrivals.exponential(1 / LAMBDA_PER_MIN)) {
        visitors.push({ arriveAt: midnight + Math.round(t * 60_000), serviceId: 's', priority: false, channel: 'kiosk', items: 1, walkMs: 0, missedCalls: 0, handlingMs: Math.max(1, Math.round(handling.exponential(MEAN_HANDLING_MIN * 60_000))) });
      }
      const staffing: Staffing = new Map(m.windows.map((w) => [w.id, [{ from: midnight, to: midnight + 23 * 3_600_000 }]]));
      const result = simulateDay({ model: m, date, visitors, staffing });
      expect(result.tickets).toHaveLength(visitors.length);
      for (const t of result.tickets) {
        expect(t.waitMs).toBeDefined();
        if (t.arriveAt - midnight >= WARM_UP_MIN * 60_000) waits.push(t.waitMs! / 60_000);
      }
    }
    const mu = 1 / MEAN_HANDLING_MIN;
    const a = LAMBDA_PER_MIN / mu;
    const pWait = erlangC(C, a);
    const rate = C * mu - LAMBDA_PER_MIN;
    const expectedMean = pWait / rate;
    const mean = waits.reduce((s, w) => s + w, 0) / waits.length;
    const share = (t: number): number => waits.filter((w) => w > t).length / waits.length;

    expect(waits.length).toBeGreaterThan(25_000);
    expect(Math.abs(mean - expectedMean) / expectedMean).toBeLessThan(0.05);
    for (const t of [0, 2, 5, 10, 20]) {
      const expected = pWait * Math.exp(-rate * t);
      expect(Math.abs(share(t) - expected), `P(wait > ${t} min): simulated ${share(t).toFixed(4)}, Erlang C ${expected.toFixed(4)}`).toBeLessThan(0.015);
    }
  });
});
