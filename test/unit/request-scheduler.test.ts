import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, FairRequestScheduler, schedulerLimits, type SchedulerLimits } from '../../src/bus/request-scheduler.js';

const op = (key: string) => ({ key, role: 'operator' as const });

function limits(overrides: Partial<SchedulerLimits['byRole']['operator']> = {}, bigQueriesAtOnce = 2, concurrent = 1): SchedulerLimits {
  return { byRole: { ...DEFAULT_LIMITS.byRole, operator: { ...DEFAULT_LIMITS.byRole.operator, ...overrides } }, bigQueriesAtOnce, concurrent };
}

describe('fair request scheduler', () => {
  it('serves the connections in turn: a flooder waits behind its own requests', async () => {
    const scheduler = new FairRequestScheduler(limits());
    const served: string[] = [];
    const job = (name: string) => async () => {
      served.push(name);
    };
    for (let i = 1; i <= 5; i++) expect(scheduler.offer(op('flood'), 'issue', job(`f${i}`))).toEqual({ ok: true });
    scheduler.offer(op('kiosk'), 'issue', job('k1'));
    scheduler.offer(op('kiosk'), 'issue', job('k2'));
    scheduler.offer(op('dash'), 'call-next', job('d1'));
    await scheduler.idle();
    expect(served).toEqual(['f1', 'f2', 'k1', 'd1', 'f3', 'k2', 'f4', 'f5']);
    expect(scheduler.pending()).toBe(0);
  });

  it('answers busy beyond a connection queue, its rate, and the big-query bounds; others are unaffected', async () => {
    let now = 0;
    const scheduler = new FairRequestScheduler(limits({ queue: 3, perSecond: 10, burst: 5, bigQueriesPerSecond: 1 }, 1), () => now);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const blocked = () => gate;
    expect(scheduler.offer(op('a'), 'issue', blocked).ok).toBe(true);
    expect(scheduler.offer(op('a'), 'issue', blocked).ok).toBe(true);
    expect(scheduler.offer(op('a'), 'issue', blocked).ok).toBe(true);
    const full = scheduler.offer(op('a'), 'issue', blocked);
    expect(full).toMatchObject({ ok: false, reason: expect.stringMatching(/3 requests waiting/) });
    expect(scheduler.offer(op('b'), 'issue', blocked).ok).toBe(true);
    // One big query in flight hall-wide: the second is refused whoever sends it.
    expect(scheduler.offer(op('c'), 'tickets', blocked).ok).toBe(true);
    expect(scheduler.offer(op('d'), 'tickets', blocked)).toMatchObject({ ok: false, reason: expect.stringMatching(/large queries/) });
    release();
    await scheduler.idle();
    // Rate: 5 in a burst, then 10 a second.
    const instant = async () => {};
    for (let i = 0; i < 2; i++) expect(scheduler.offer(op('e'), 'issue', instant).ok).toBe(true);
    await scheduler.idle();
    for (let i = 0; i < 3; i++) expect(scheduler.offer(op('e'), 'issue', instant).ok).toBe(true);
    await scheduler.idle();
    expect(scheduler.offer(op('e'), 'issue', instant)).toMatchObject({ ok: false, reason: expect.stringMatching(/requests a second/) });
    now += 100;
    expect(scheduler.offer(op('e'), 'issue', instant).ok).toBe(true);
    // Big queries per connection: a burst of 2, then 1 a second.
    for (let i = 0; i < 2; i++) {
      expect(scheduler.offer(op('f'), 'health', instant).ok).toBe(true);
      await scheduler.idle();
    }
    expect(scheduler.offer(op('f'), 'health', instant)).toMatchObject({ ok: false, reason: expect.stringMatching(/at most 1 such queries a second/) });
    now += 1000;
    expect(scheduler.offer(op('f'), 'health', instant).ok).toBe(true);
    await scheduler.idle();
  });

  it('whenRoom: a refused connection may be read again once half its line is free (and a big-query slot is), not at the next free place', async () => {
    const scheduler = new FairRequestScheduler(limits({ queue: 4 }, 1, 4));
    const releases: Array<() => void> = [];
    const blocked = () => new Promise<void>((resolve) => releases.push(resolve));
    for (let i = 0; i < 4; i++) expect(scheduler.offer(op('a'), 'issue', blocked).ok).toBe(true);
    expect(scheduler.offer(op('a'), 'issue', blocked).ok).toBe(false);
    let room = false;
    void scheduler.whenRoom(op('a'), 'issue').then(() => (room = true));
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await settle();
    expect(room).toBe(false); // one place free: reading on would only buy one more refusal
    releases.shift()!();
    await settle();
    expect(room).toBe(true); // half the line free
    // A big query waits for the hall-wide slot too.
    expect(scheduler.offer(op('b'), 'tickets', blocked).ok).toBe(true);
    let bigRoom = false;
    void scheduler.whenRoom(op('c'), 'tickets').then(() => (bigRoom = true));
    await settle();
    expect(bigRoom).toBe(false);
    for (const release of releases.splice(0)) release();
    await scheduler.idle();
    await settle();
    expect(bigRoom).toBe(true);
    // close() lets every waiter go (the bridge stopping).
    for (let i = 0; i < 4; i++) scheduler.offer(op('d'), 'issue', blocked);
    let closed = false;
    void scheduler.whenRoom(op('d'), 'issue').then(() => (closed = true));
    scheduler.close();
    await settle();
    expect(closed).toBe(true);
    for (const release of releases.splice(0)) release();
  });

  it('with several running at once, the free places go round the connections too', async () => {
    const scheduler = new FairRequestScheduler(limits({}, 2, 3));
    const started: string[] = [];
    const releases: Array<() => void> = [];
    const job = (name: string) => () => {
      started.push(name);
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    for (let i = 1; i <= 6; i++) scheduler.offer(op('flood'), 'issue', job(`f${i}`));
    scheduler.offer(op('kiosk'), 'issue', job('k1'));
    // f1..f3 took the three places at once; the flooder was first in the round, so the next
    // free place is its f4, the one after it k1 — not after the flooder's whole line.
    expect(started).toEqual(['f1', 'f2', 'f3']);
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['f1', 'f2', 'f3', 'f4', 'k1']);
    while (releases.length > 0 || scheduler.pending() > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(started).toEqual(['f1', 'f2', 'f3', 'f4', 'k1', 'f5', 'f6']);
  });

  it("hands the hall at most `running` of one connection's requests: another client's request never finds a flooder's whole line ahead of it", async () => {
    // Plenty of places hall-wide (the default 128), a line of 64 for the flooder: before the
    // per-connection cap the whole line went to the hall at once, and the hall serves what it
    // was handed in order — another operator's issue waited for all 64 (2–3 group commits).
    const scheduler = new FairRequestScheduler(limits({ queue: 64, running: 4 }, 2, 128));
    const started: string[] = [];
    const releases: Array<() => void> = [];
    const job = (name: string) => () => {
      started.push(name);
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    for (let i = 1; i <= 64; i++) expect(scheduler.offer(op('flood'), 'issue', job(`f${i}`)).ok).toBe(true);
    expect(started).toEqual(['f1', 'f2', 'f3', 'f4']);
    scheduler.offer(op('other'), 'issue', job('o1'));
    expect(started).toEqual(['f1', 'f2', 'f3', 'f4', 'o1']);
    // As the flooder's requests finish, its next ones start, never more than 4 at once.
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started.slice(5)).toEqual(['f5']);
    while (releases.length > 0 || scheduler.pending() > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(started).toHaveLength(65);
  });

  it('a request that throws does not stop the service of the others', async () => {
    const scheduler = new FairRequestScheduler();
    const served: string[] = [];
    scheduler.offer(op('a'), 'issue', async () => {
      throw new Error('boom');
    });
    scheduler.offer(op('b'), 'issue', async () => {
      served.push('b');
    });
    await scheduler.idle();
    expect(served).toEqual(['b']);
  });

  it('takes per-role limits from the config and keeps the defaults for the rest', () => {
    const merged = schedulerLimits({ device: { perSecond: 1 }, bigQueriesAtOnce: 4 });
    expect(merged.byRole.device).toEqual({ ...DEFAULT_LIMITS.byRole.device, perSecond: 1 });
    expect(merged.byRole.operator).toEqual(DEFAULT_LIMITS.byRole.operator);
    expect(merged.bigQueriesAtOnce).toBe(4);
  });
});
