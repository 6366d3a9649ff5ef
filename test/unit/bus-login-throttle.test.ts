import { describe, expect, it } from 'vitest';
import { LoginThrottle, type LoginThrottleSettings, type ThrottleClock } from '../../src/bus/login-throttle.js';

/** A clock the test moves by hand; timers fire when it passes them. */
class ManualClock implements ThrottleClock {
  time = 0;
  private timers: Array<{ at: number; callback: () => void }> = [];
  now = (): number => this.time;
  setTimer = (callback: () => void, ms: number): unknown => {
    const timer = { at: this.time + ms, callback };
    this.timers.push(timer);
    return timer;
  };
  clearTimer = (timer: unknown): void => {
    this.timers = this.timers.filter((t) => t !== timer);
  };
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.callback();
  }
}

const settings: LoginThrottleSettings = { concurrency: 1, backoffBaseMs: 100, backoffMaxMs: 400, forgetAfterMs: 10_000, trustForMs: 60_000, maxPendingPerAddress: 3, maxPending: 5 };

/** A check the test finishes by hand. */
function manualCheck(failed: boolean) {
  let finish!: () => void;
  let started = false;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    get started() {
      return started;
    },
    finish: () => finish(),
    run: async () => {
      started = true;
      await done;
      return { value: failed ? 'no' : 'yes', failed };
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LoginThrottle', () => {
  it('serves a clean address before one with failures, and backs the failing one off, doubling to the maximum', async () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle(settings, clock);
    const first = manualCheck(true);
    const firstRun = throttle.run('10.0.0.9', first.run);
    await settle();
    expect(first.started).toBe(true);
    const attackers = [manualCheck(true), manualCheck(true)];
    const attackerRuns = attackers.map((c) => throttle.run('10.0.0.9', c.run));
    first.finish();
    await firstRun;
    await settle();
    // One failure: the address waits 100 ms.
    expect(attackers[0]!.started).toBe(false);
    const real = manualCheck(false);
    const realRun = throttle.run('10.0.0.1', real.run);
    await settle();
    expect(real.started).toBe(true);
    real.finish();
    expect(await realRun).toMatchObject({ ran: true, value: 'yes', wait: { overtakenBy: 0 } });

    clock.advance(99);
    await settle();
    expect(attackers[0]!.started).toBe(false);
    clock.advance(1);
    await settle();
    expect(attackers[0]!.started).toBe(true);
    attackers[0]!.finish();
    await attackerRuns[0];
    await settle();
    // Two failures: 200 ms.
    clock.advance(199);
    await settle();
    expect(attackers[1]!.started).toBe(false);
    clock.advance(1);
    await settle();
    expect(attackers[1]!.started).toBe(true);
    attackers[1]!.finish();
    await attackerRuns[1];
  });

  it('refuses at once beyond the per-address and total allowances, and skips a client that left', async () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle(settings, clock);
    const running = manualCheck(true);
    const runningRun = throttle.run('a', running.run);
    await settle();
    const waiting = [manualCheck(true), manualCheck(true), manualCheck(true)];
    let leftEarly = false;
    const waitingRuns = waiting.map((c, i) => throttle.run('a', c.run, () => !(i === 0 && leftEarly)));
    expect(await throttle.run('a', manualCheck(true).run)).toEqual({ ran: false, reason: 'address-busy' });
    const other = manualCheck(false);
    const otherRun = throttle.run('b', other.run);
    expect(throttle.pending()).toBe(5);
    expect(await throttle.run('c', manualCheck(false).run)).toEqual({ ran: false, reason: 'overloaded' });

    leftEarly = true;
    running.finish();
    await runningRun;
    await settle();
    // 'b' is clean, so it goes first.
    expect(other.started).toBe(true);
    other.finish();
    await otherRun;
    clock.advance(100);
    await settle();
    expect(await waitingRuns[0]).toEqual({ ran: false, reason: 'abandoned' });
    expect(waiting[0]!.started).toBe(false);
    expect(waiting[1]!.started).toBe(true);
    throttle.close();
    expect(await waitingRuns[2]).toEqual({ ran: false, reason: 'closed' });
  });

  it('keeps the last slot for addresses that logged in before, whatever the rest of the world sends', async () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle({ ...settings, concurrency: 2, maxPendingPerAddress: 10, maxPending: 100 }, clock);
    const earlier = manualCheck(false);
    const earlierRun = throttle.run('10.0.0.1', earlier.run);
    await settle();
    earlier.finish();
    await earlierRun;

    // Fifty never-seen addresses: they share one slot.
    const strangers = Array.from({ length: 50 }, () => manualCheck(true));
    const strangerRuns = strangers.map((c, i) => throttle.run(`10.1.0.${i}`, c.run));
    await settle();
    expect(strangers.filter((c) => c.started)).toHaveLength(1);

    const known = manualCheck(false);
    const knownRun = throttle.run('10.0.0.1', known.run);
    await settle();
    expect(known.started).toBe(true);
    known.finish();
    expect(await knownRun).toMatchObject({ ran: true, wait: { pendingAhead: 50, overtakenBy: 0, queuedMs: 0 } });
    throttle.close();
    strangers[0]!.finish();
    await Promise.all(strangerRuns);
  });

  it('forgets failures after a success', async () => {
    const clock = new ManualClock();
    const throttle = new LoginThrottle(settings, clock);
    for (const failed of [true, false]) {
      const check = manualCheck(failed);
      const run = throttle.run('a', check.run);
      clock.advance(100);
      await settle();
      check.finish();
      await run;
    }
    const next = manualCheck(false);
    const run = throttle.run('a', next.run);
    await settle();
    expect(next.started).toBe(true); // no back-off left
    next.finish();
    await run;
  });
});
