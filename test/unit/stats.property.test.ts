import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueueEngine } from '../../src/queue/engine.js';
import { QueueError, type QueueCommand } from '../../src/queue/commands.js';
import type { HallEvent } from '../../src/queue/events.js';
import { StatsAccumulator, computeDayStats, type Figures } from '../../src/queue/stats.js';
import { MINUTE, MONDAY_9AM, smallModel } from '../support/model.js';

const windows = ['w1', 'w2', 'w3', 'w4'];
const services = ['ss', 'mi', 'rt'];

/** Random days driven through the real engine, so the events are ones the hall can produce. */
const stepArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('issue' as const), serviceId: fc.constantFrom(...services) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('call-next' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('recall' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('skip' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('requeue' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('transfer' as const),
      pick: fc.nat(),
      toServiceId: fc.option(fc.constantFrom(...services), { nil: undefined }),
      toWindowId: fc.option(fc.constantFrom(...windows), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('start' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('finish' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('login' as const), windowId: fc.constantFrom(...windows), staff: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rate' as const), windowId: fc.constantFrom(...windows), rating: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 30 }) }) },
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function toCommand(step: Exclude<Step, { kind: 'wait' }>, issued: string[], engine: QueueEngine): QueueCommand {
  const pick = (n: number) => issued[n % Math.max(1, issued.length)] ?? 'A999';
  // Only no-shows can be put back: pick among them, or requeue would almost never happen.
  const noShows = issued.filter((number) => engine.ticket(number)?.state === 'no-show');
  switch (step.kind) {
    case 'issue':
      return { type: 'issue', serviceId: step.serviceId, channel: 'kiosk' };
    case 'requeue':
      return { type: 'requeue', number: noShows[step.pick % Math.max(1, noShows.length)] ?? pick(step.pick) };
    case 'void':
      return { type: 'void', number: pick(step.pick), reason: 'test' };
    case 'transfer':
      return { type: 'transfer', number: pick(step.pick), toServiceId: step.toServiceId, toWindowId: step.toWindowId };
    case 'login':
      return { type: 'login', windowId: step.windowId, staffId: `staff-${step.staff}` };
    case 'rate':
      return step.rating === undefined
        ? { type: 'rate', windowId: step.windowId, timedOut: true }
        : { type: 'rate', windowId: step.windowId, rating: step.rating as 1 | 2 | 3 | 4 | 5 };
    default:
      return { type: step.kind, windowId: step.windowId };
  }
}

/** Runs a day through the engine; the last step is always closing time, which expires leftovers. */
function runDay(steps: Step[], closeAtEnd: boolean): { engine: QueueEngine; events: HallEvent[] } {
  const engine = new QueueEngine(smallModel());
  const events: HallEvent[] = [];
  const issued: string[] = [];
  let now = MONDAY_9AM;
  // Staff every window first: random days would otherwise rarely get past "window closed".
  const opening: Step[] = windows.map((windowId, i) => ({ kind: 'login', windowId, staff: i + 1 }));
  for (const step of [...opening, ...steps]) {
    if (step.kind === 'wait') {
      now += step.minutes * MINUTE;
      continue;
    }
    try {
      for (const event of engine.run(toCommand(step, issued, engine), now)) {
        events.push(event);
        if (event.type === 'ticket.issued') issued.push(event.ticket.number);
      }
    } catch (err) {
      if (!(err instanceof QueueError)) throw err;
    }
    now += 7_000;
  }
  if (closeAtEnd) events.push(...engine.run({ type: 'tick' }, MONDAY_9AM + 9 * 60 * MINUTE));
  return { engine, events };
}

const sum = (records: Record<string, Figures>, pick: (f: Figures) => number) => Object.values(records).reduce((acc, f) => acc + pick(f), 0);

describe('day statistics against the real engine', () => {
  it('account for every ticket exactly once and agree with the engine', () => {
    // Seen over all runs, to prove the generated days exercise every path (no vacuous pass).
    const seen = { served: 0, noShows: 0, requeued: 0, transfers: 0, voided: 0, expired: 0, recalls: 0, rated: 0, timedOut: 0, open: 0 };
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 150, size: 'max' }), fc.boolean(), (steps, closeAtEnd) => {
        const { engine, events } = runDay(steps, closeAtEnd);
        const stats = computeDayStats(engine.model, events);
        const tickets = [...engine.allTickets()];
        const count = (state: string) => tickets.filter((t) => t.state === state).length;
        const { total } = stats;
        seen.served += total.served;
        seen.noShows += total.noShows;
        seen.requeued += total.requeued;
        seen.transfers += total.transfersOut;
        seen.voided += total.voided;
        seen.expired += total.expired;
        seen.recalls += total.recalls;
        seen.rated += total.ratings.rated;
        seen.timedOut += total.ratings.timedOut;
        seen.open += total.open;

        expect(total.issued).toBe(tickets.length);
        expect(total.served).toBe(count('done'));
        expect(total.served).toBe(engine.servedToday());
        expect(total.voided).toBe(count('voided'));
        expect(total.expired).toBe(count('expired'));
        const stillOpen = count('waiting') + count('called') + count('serving') + count('no-show');
        expect(total.open).toBe(stillOpen);
        // served + no-show (still out) + voided + expired + other open = issued
        expect(total.served + total.voided + total.expired + total.open).toBe(total.issued);
        expect(count('no-show')).toBeLessThanOrEqual(total.noShows);
        if (closeAtEnd) expect(total.open).toBe(count('called') + count('serving'));

        expect(total.waiting.count).toBe(tickets.filter((t) => t.firstCalledAt !== undefined).length);
        expect(total.handling.count).toBe(total.served);
        // (Ticket.recalls restarts at a requeue or transfer, so count the events instead.)
        expect(total.recalls).toBe(events.filter((e) => e.type === 'ticket.recalled').length);
        expect(total.transfersOut).toBe(tickets.reduce((acc, t) => acc + t.transfers, 0));

        const ratedTickets = tickets.filter((t) => t.ratedAt !== undefined);
        expect(total.ratings.rated + total.ratings.timedOut).toBe(ratedTickets.length);
        expect(Object.values(total.ratings.split).reduce((a, b) => a + b, 0)).toBe(total.ratings.rated);
        expect(total.ratings.rate).toBeGreaterThanOrEqual(0);
        expect(total.ratings.rate).toBeLessThanOrEqual(1);

        // The groups partition the total.
        expect(sum(stats.byService, (f) => f.issued)).toBe(total.issued);
        expect(sum(stats.byService, (f) => f.served)).toBe(total.served);
        expect(sum(stats.byService, (f) => f.open)).toBe(total.open);
        expect(sum(stats.byService, (f) => f.transfersIn)).toBe(sum(stats.byService, (f) => f.transfersOut));
        expect(sum(stats.byWindow, (f) => f.served)).toBe(total.served);
        expect(sum(stats.byWindow, (f) => f.waiting.count)).toBe(total.waiting.count);
        for (const service of engine.model.services) {
          const open = tickets.filter((t) => t.serviceId === service.id && !['done', 'voided', 'expired'].includes(t.state)).length;
          expect(stats.byService[service.id]!.open).toBe(open);
        }
        expect(stats.perQuarter.reduce((acc, q) => acc + q.issued, 0)).toBe(total.issued);
        expect(stats.perQuarter.reduce((acc, q) => acc + q.served, 0)).toBe(total.served);

        // Summaries are ordered.
        for (const s of [total.waiting, total.handling]) {
          if (s.count > 0) {
            expect(s.p50).toBeLessThanOrEqual(s.p90);
            expect(s.p90).toBeLessThanOrEqual(s.max);
            expect(s.mean).toBeLessThanOrEqual(s.max + 0.05);
          }
        }

        // Replay is deterministic: the same events give the same figures, snapshot at any point.
        const again = new StatsAccumulator(engine.model);
        for (const event of events) again.apply(event);
        expect(again.snapshot(stats.generatedAt)).toEqual(stats);
        expect(again.ignored).toBe(0);
      }),
      { numRuns: 150 },
    );
    for (const [what, n] of Object.entries(seen)) expect(n, `no run had any ${what}: ${JSON.stringify(seen)}`).toBeGreaterThan(0);
  });
});
