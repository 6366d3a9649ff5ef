import { mkdtempSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, toQueueModel } from '../../src/config/load.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { Hall } from '../../src/hall/hall.js';
import { Journal } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/platform/logger.js';
import type { QueueModel } from '../../src/queue/model.js';
import { TimedHeap } from '../../src/sim/heap.js';
import { configHandling } from '../../src/sim/handling.js';
import { planSimulation } from '../../src/sim/plan.js';
import { profileVisitors } from '../../src/sim/profiles.js';
import { scheduledStaffing } from '../../src/sim/staffing.js';
import { runSweep } from '../../src/sim/sweep.js';
import { DEFAULT_BEHAVIOUR, RECALL_AFTER_MS, type SimVisitor } from '../../src/sim/visitor.js';

const DATE = '2026-01-05';

/**
 * Records a demo day through the real Hall and its SQLite journal, on a virtual clock: the demo
 * hall's windows staffed by their schedules (lunch as a pause), visitors who sometimes miss calls
 * and come back, and staff who — like the demo's keypads — press "next", which finishes the
 * ticket at the counter and calls the next one in one step; the customer rates a few seconds
 * later. Written independently of the simulator's event loop: only the visitors are shared.
 */
function recordDay(model: QueueModel, journal: Journal, visitors: SimVisitor[]): void {
  let clock = 0;
  const hall = new Hall({ model, journal, log: silentLogger(), now: () => clock });
  type Step = { k: 'arrive'; v: SimVisitor } | { k: 'on' | 'off'; w: string; last: boolean } | { k: 'answer' | 'miss' | 'done'; w: string; n: string } | { k: 'back'; n: string } | { k: 'rate'; w: string; v: SimVisitor; n: string };
  const heap = new TimedHeap<Step>();
  for (const v of visitors) heap.push(v.arriveAt, { k: 'arrive', v });
  for (const [w, shifts] of scheduledStaffing(model, DATE)) {
    shifts.forEach((s, i) => {
      heap.push(s.from, { k: 'on', w, last: false });
      heap.push(s.to, { k: 'off', w, last: i === shifts.length - 1 });
    });
  }
  const byNumber = new Map<string, { v: SimVisitor; missed: number }>();
  const staff = new Map(model.windows.map((w) => [w.id, { on: false, leaving: false, last: false, current: undefined as string | undefined, idleSince: 0 }]));
  const services = new Map(model.windows.map((w) => [w.id, new Set(w.skills.map((s) => s.serviceId))]));

  const onCalled = (w: string, n: string): void => {
    staff.get(w)!.current = n;
    const person = byNumber.get(n)!;
    if (person.missed === 0) heap.push(clock + person.v.walkMs, { k: 'answer', w, n });
    else {
      person.missed -= 1;
      heap.push(clock + RECALL_AFTER_MS, { k: 'miss', w, n });
    }
  };
  /** The "next" key: finishes what is at the counter and calls the next ticket. */
  const pressNext = (w: string): void => {
    const s = staff.get(w)!;
    const finishing = s.current;
    s.current = undefined;
    s.idleSince = clock;
    if (s.leaving || !s.on) {
      if (finishing) hall.execute({ type: 'finish', windowId: w });
      s.leaving = false;
      s.on = false;
      hall.execute(s.last ? { type: 'logout', windowId: w } : { type: 'pause', windowId: w });
    } else {
      const result = hall.execute({ type: 'call-next', windowId: w });
      const called = result.ok ? result.events.find((e) => e.type === 'ticket.called') : undefined;
      if (called?.type === 'ticket.called') onCalled(w, called.number);
      else if (finishing) hall.execute({ type: 'finish', windowId: w });
    }
    if (finishing) {
      const v = byNumber.get(finishing)!.v;
      if (v.rating !== undefined) heap.push(clock + 5_000, { k: 'rate', w, v, n: finishing });
    }
  };
  const idleTakers = (serviceId: string): string[] =>
    [...staff].filter(([w, s]) => s.on && !s.leaving && !s.current && services.get(w)!.has(serviceId)).sort((a, b) => a[1].idleSince - b[1].idleSince).map(([w]) => w);
  const offerTo = (serviceId: string): void => {
    for (const w of idleTakers(serviceId)) {
      const result = hall.execute({ type: 'call-next', windowId: w });
      const called = result.ok ? result.events.find((e) => e.type === 'ticket.called') : undefined;
      if (called?.type === 'ticket.called') return onCalled(w, called.number);
    }
  };

  for (let step = heap.pop(); step; step = heap.pop()) {
    clock = step.at;
    const a = step.value;
    if (a.k === 'arrive') {
      const result = hall.execute({ type: 'issue', serviceId: a.v.serviceId, channel: a.v.channel, priority: a.v.priority, ...(a.v.items > 1 ? { items: Array.from({ length: a.v.items }, (_, i) => `m${i}`) } : {}) });
      if (!result.ok || !result.ticket) continue;
      byNumber.set(result.ticket.number, { v: a.v, missed: a.v.missedCalls });
      offerTo(a.v.serviceId);
    } else if (a.k === 'on') {
      const s = staff.get(a.w)!;
      const status = hall.engine.windowState(a.w)!.status;
      hall.execute(status === 'closed' ? { type: 'login', windowId: a.w, staffId: `staff-${a.w}` } : { type: 'resume', windowId: a.w });
      Object.assign(s, { on: true, leaving: false, idleSince: clock });
      pressNext(a.w);
    } else if (a.k === 'off') {
      const s = staff.get(a.w)!;
      s.last = a.last;
      if (s.current) s.leaving = true;
      else {
        s.on = false;
        hall.execute(a.last ? { type: 'logout', windowId: a.w } : { type: 'pause', windowId: a.w });
      }
    } else if (a.k === 'answer') {
      hall.execute({ type: 'start', windowId: a.w });
      heap.push(clock + byNumber.get(a.n)!.v.handlingMs, { k: 'done', w: a.w, n: a.n });
    } else if (a.k === 'done') {
      pressNext(a.w);
    } else if (a.k === 'miss') {
      const t = hall.engine.ticket(a.n)!;
      const person = byNumber.get(a.n)!;
      if (t.recalls < model.policy.recallLimit) {
        hall.execute({ type: 'recall', windowId: a.w });
        if (person.missed === 0) heap.push(clock + person.v.walkMs, { k: 'answer', w: a.w, n: a.n });
        else {
          person.missed -= 1;
          heap.push(clock + RECALL_AFTER_MS, { k: 'miss', w: a.w, n: a.n });
        }
      } else {
        hall.execute({ type: 'skip', windowId: a.w });
        staff.get(a.w)!.current = undefined;
        if (person.v.returnsAfterMs !== undefined) heap.push(clock + person.v.returnsAfterMs, { k: 'back', n: a.n });
        staff.get(a.w)!.current = undefined;
        pressNext(a.w);
      }
    } else if (a.k === 'back') {
      const result = hall.execute({ type: 'requeue', number: a.n });
      if (result.ok) {
        byNumber.get(a.n)!.missed = 0;
        offerTo(hall.engine.ticket(a.n)!.serviceId);
      }
    } else if (a.k === 'rate') {
      hall.execute(a.v.rating === 'timeout' ? { type: 'rate', windowId: a.w, number: a.n, timedOut: true } : { type: 'rate', windowId: a.w, number: a.n, rating: a.v.rating! });
    }
  }
  clock += 1;
  hall.tick();
}

describe('a recorded demo day, replayed', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reproduces its recorded waits from its own arrivals, counter times, behaviour and staffing', () => {
    const model = toQueueModel(loadConfig(join(import.meta.dirname, '../../config/demo-hall.yaml'), { deviceKinds: deviceKindSchemas() }));
    const visitors = profileVisitors({ model, date: DATE, tickets: 700, profile: 'morning-peak', seed: 7, handling: configHandling(model.services, 'lognormal', 0.6), behaviour: { ...DEFAULT_BEHAVIOUR, noShowShare: 0.08 } });
    // The journal is real SQLite with its fsyncs; in memory-backed /dev/shm they cost nothing.
    const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hall-edge-replay-'));
    dirs.push(dir);
    const journal = Journal.open(join(dir, 'journal.db'), silentLogger());
    try {
      recordDay(model, journal, visitors);
      const events = journal.readDay(DATE);
      const recordedWait = new Map<string, number>();
      const issuedAt = new Map<string, number>();
      for (const e of events) {
        if (e.type === 'ticket.issued') issuedAt.set(e.ticket.number, e.at);
        if (e.type === 'ticket.called' && !recordedWait.has(e.number)) recordedWait.set(e.number, e.at - issuedAt.get(e.number)!);
      }
      expect(events.some((e) => e.type === 'ticket.skipped')).toBe(true);
      expect(events.some((e) => e.type === 'ticket.requeued')).toBe(true);
      expect(events.some((e) => e.type === 'window.paused')).toBe(true);
      expect(recordedWait.size).toBeGreaterThan(600);

      const plan = planSimulation(model, { replay: { day: DATE, events } });
      const result = runSweep({ variants: plan.variants, days: plan.days });
      const simulated = result.firstDays[0]!;
      // Tolerance: every ticket's first-call wait within 1 s of the recording (it is the same
      // day, so it should be exact but for how the recording's staff order simultaneous presses).
      let compared = 0;
      for (const t of simulated.tickets) {
        const recorded = recordedWait.get(t.number);
        if (recorded === undefined) continue;
        compared += 1;
        expect(Math.abs((t.waitMs ?? Infinity) - recorded), `ticket ${t.number}`).toBeLessThanOrEqual(1000);
      }
      expect(compared).toBe(recordedWait.size);
      // And the day's figures, by the hall's own statistics, match too.
      const recordedStats = new Hall({ model, journal, log: silentLogger() });
      recordedStats.replay();
      const a = recordedStats.statsToday().total;
      const b = simulated.stats.total;
      expect([b.issued, b.served, b.noShows, b.requeued]).toEqual([a.issued, a.served, a.noShows, a.requeued]);
      expect(b.waiting.p90).toBeCloseTo(a.waiting.p90, 0);
    } finally {
      journal.close();
    }
  });
});
