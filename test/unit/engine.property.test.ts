import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueueEngine } from '../../src/queue/engine.js';
import { QueueError, type QueueCommand } from '../../src/queue/commands.js';
import type { HallEvent } from '../../src/queue/events.js';
import type { Ticket } from '../../src/queue/ticket.js';
import { MINUTE, MONDAY_9AM, smallModel } from '../support/model.js';

const windows = ['w1', 'w2', 'w3', 'w4'];
const services = ['ss', 'mi', 'rt'];

/** Commands that refer to tickets by index into the day's issued list, so they stay meaningful. */
const commandArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('issue' as const), serviceId: fc.constantFrom(...services), priority: fc.boolean(), appointmentIn: fc.option(fc.integer({ min: -5, max: 60 }), { nil: undefined }) }) },
  { weight: 5, arbitrary: fc.record({ type: fc.constant('call-next' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('call' as const), windowId: fc.constantFrom(...windows), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('recall' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('skip' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('requeue' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('transfer' as const), pick: fc.nat(), toServiceId: fc.option(fc.constantFrom(...services), { nil: undefined }), toWindowId: fc.option(fc.constantFrom(...windows), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('start' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('finish' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('void' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('pause' as const, 'resume' as const, 'logout' as const), windowId: fc.constantFrom(...windows) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('login' as const), windowId: fc.constantFrom(...windows), staff: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('rate' as const), windowId: fc.constantFrom(...windows), rating: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 20 }) }) },
);
type Step = fc.Arbitrary<typeof commandArb extends fc.Arbitrary<infer T> ? T : never> extends fc.Arbitrary<infer U> ? U : never;

function toCommand(step: Step, issued: string[], now: number): QueueCommand | 'wait' {
  const pick = (n: number) => issued[n % Math.max(1, issued.length)] ?? 'A999';
  switch (step.type) {
    case 'issue':
      return step.appointmentIn === undefined
        ? { type: 'issue', serviceId: step.serviceId, channel: 'kiosk', priority: step.priority }
        : { type: 'issue', serviceId: step.serviceId, channel: 'appointment', appointment: { slotStart: now + step.appointmentIn * MINUTE, slotEnd: now + (step.appointmentIn + 30) * MINUTE } };
    case 'call':
      return { type: 'call', windowId: step.windowId, number: pick(step.pick) };
    case 'requeue':
      return { type: 'requeue', number: pick(step.pick) };
    case 'void':
      return { type: 'void', number: pick(step.pick), reason: 'test' };
    case 'transfer':
      return { type: 'transfer', number: pick(step.pick), toServiceId: step.toServiceId, toWindowId: step.toWindowId };
    case 'login':
      return { type: 'login', windowId: step.windowId, staffId: `staff-${step.staff}` };
    case 'rate':
      return { type: 'rate', windowId: step.windowId, rating: step.rating as 1 | 2 | 3 | 4 | 5 };
    case 'wait':
      return 'wait';
    default:
      return step as QueueCommand;
  }
}

function checkInvariants(engine: QueueEngine, issuedNumbers: string[]) {
  const tickets = [...engine.allTickets()];
  // No ticket lost or duplicated: every issued number is held exactly once.
  expect(tickets.map((t) => t.number).sort()).toEqual([...issuedNumbers].sort());
  expect(new Set(issuedNumbers).size).toBe(issuedNumbers.length);
  // Each waiting ticket is in exactly one line; nothing else is in a line.
  const inLines = new Map<string, number>();
  for (const s of services) for (const t of engine.waiting(s)) inLines.set(t.number, (inLines.get(t.number) ?? 0) + 1);
  for (const w of windows) for (const t of engine.waitingForWindow(w)) inLines.set(t.number, (inLines.get(t.number) ?? 0) + 1);
  for (const t of tickets) expect(inLines.get(t.number) ?? 0).toBe(t.state === 'waiting' ? 1 : 0);
  // The counts the displays and pads show agree with the lines themselves.
  for (const s of services) {
    const line = engine.waiting(s);
    expect(engine.waitingCount(s)).toBe(line.length);
    const oldest = line.length === 0 ? undefined : Math.min(...line.map((t) => t.issuedAt));
    expect(engine.waitingSummary(s, 3)).toEqual({ count: line.length, priority: line.filter((t) => t.priority).length, next: line.slice(0, 3).map((t) => t.number), oldestIssuedAt: oldest });
  }
  for (const w of engine.model.windows) {
    const lines = new Set(w.skills.map((skill) => skill.serviceId));
    const expected = tickets.filter((t) => t.state === 'waiting' && (t.targetWindowId === w.id || (t.targetWindowId === undefined && lines.has(t.serviceId)))).length;
    expect(engine.waitingCountForWindow(w.id)).toBe(expected);
  }
  // Lines are in place order.
  for (const s of services) {
    const orders = engine.waiting(s).map((t) => t.order);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
  }
  // No double call: a called/serving ticket is current at exactly one window, and only there.
  const current = [...engine.windowStates()].filter((w) => w.current).map((w) => w.current!);
  expect(new Set(current).size).toBe(current.length);
  for (const t of tickets) {
    const atWindows = current.filter((n) => n === t.number).length;
    expect(atWindows).toBe(t.state === 'called' || t.state === 'serving' ? 1 : 0);
  }
}

describe('queue engine invariants (property-based)', () => {
  it('never loses, duplicates or double-calls a ticket; FIFO within a class; transfers keep their place; replay is exact', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 200, size: 'large' }), (steps) => {
        const engine = new QueueEngine(smallModel({ policy: { priorityGuard: 2 } }));
        const log: HallEvent[] = [];
        const issued: string[] = [];
        let now = MONDAY_9AM;
        // Most runs start with staffed windows, so calls are common; some start cold.
        const opening: Step[] = steps.length % 4 === 0 ? [] : windows.map((windowId, i) => ({ type: 'login' as const, windowId, staff: i + 1 }));
        for (const step of [...opening, ...steps]) {
          const command = toCommand(step, issued, now);
          if (command === 'wait') {
            now += (step as { minutes: number }).minutes * MINUTE;
            continue;
          }
          const before = new Map<string, Ticket>([...engine.allTickets()].map((t) => [t.number, { ...t }]));
          let events: HallEvent[] = [];
          try {
            events = engine.run(command, now, (batch) => log.push(...batch));
          } catch (err) {
            if (!(err instanceof QueueError)) throw err;
          }
          for (const event of events) {
            if (event.type === 'ticket.issued') {
              // Each number issued once per day, consecutively per service.
              expect(issued).not.toContain(event.ticket.number);
              issued.push(event.ticket.number);
            }
            if (event.type === 'ticket.transferred') {
              expect(engine.ticket(event.number)!.order).toBe(before.get(event.number)!.order);
            }
            if (event.type === 'ticket.called' && event.reason === 'next') {
              // FIFO within the class: nobody of the same line, priority and kind waited longer.
              const called = before.get(event.number)!;
              const sameClass = [...before.values()].filter(
                (t) =>
                  t.state === 'waiting' &&
                  t.serviceId === called.serviceId &&
                  t.priority === called.priority &&
                  t.targetWindowId === called.targetWindowId &&
                  !t.appointment &&
                  !called.appointment,
              );
              for (const other of sameClass) expect(other.order).toBeGreaterThanOrEqual(called.order);
            }
          }
          checkInvariants(engine, issued);
        }
        // Per-service numbering is gap-free: A001..A00n.
        for (const prefix of ['A', 'B', 'C']) {
          const serials = issued.filter((n) => n.startsWith(prefix)).map((n) => Number(n.slice(1)));
          expect(serials).toEqual(serials.map((_, i) => i + 1));
        }
        // Replaying the committed events rebuilds the same state.
        const replayed = new QueueEngine(smallModel({ policy: { priorityGuard: 2 } }));
        for (const event of log) replayed.apply(event);
        expect([...replayed.allTickets()]).toEqual([...engine.allTickets()]);
        expect([...replayed.windowStates()]).toEqual([...engine.windowStates()]);
      }),
      { numRuns: 150 },
    );
    // ~20 s on an idle 2-core box, several times that while other work runs beside the suite:
    // the timeout is for a busy box, not a speed target.
  }, 180_000);
});
