/**
 * Schedules password checks (scrypt, ~50 ms of a core each) so a flood of logins cannot push a
 * real one to the back of a long line:
 * - at most `concurrency` checks run at once (the rest of the libuv pool stays free for the
 *   journal and the network);
 * - waiting checks are served per remote address, in three tiers: addresses that logged in
 *   successfully within `trustForMs` (and have not failed since) first, then addresses without
 *   failures, then failing ones; within a tier, addresses take turns, so a flooding address
 *   waits behind its own attempts, not in front of others';
 * - only trusted addresses may use the last check slot: whatever the rest of the world sends,
 *   a dashboard PC or device that logged in before finds a slot free;
 * - after a failure an address's next check waits `backoffBaseMs`, doubling per further failure
 *   up to `backoffMaxMs` (a success, or `forgetAfterMs` without failure, clears it);
 * - an address may have `maxPendingPerAddress` logins waiting, all addresses `maxPending`;
 *   beyond that a login is refused without running scrypt.
 */
export interface LoginThrottleSettings {
  concurrency: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  forgetAfterMs: number;
  trustForMs: number;
  maxPendingPerAddress: number;
  maxPending: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = {
  concurrency: 2,
  backoffBaseMs: 250,
  backoffMaxMs: 8_000,
  forgetAfterMs: 60_000,
  trustForMs: 24 * 60 * 60_000,
  maxPendingPerAddress: 8,
  maxPending: 256,
};

const TRUSTED = 0;
const CLEAN = 1;
const FAILING = 2;
type Tier = typeof TRUSTED | typeof CLEAN | typeof FAILING;

/** How a check waited; logged with every login so a slow one can be explained. */
export interface CheckWait {
  queuedMs: number;
  /** Checks waiting or running when this one was queued. */
  pendingAhead: number;
  /** Checks that started after this one was queued and before it started. */
  overtakenBy: number;
}

export type ThrottledRun<T> =
  | { ran: true; value: T; wait: CheckWait }
  | { ran: false; reason: 'address-busy' | 'overloaded' | 'abandoned' | 'closed' };

export interface ThrottleClock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

const REAL_CLOCK: ThrottleClock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

interface Waiter {
  start: (tier: Tier) => void;
  cancel: (reason: 'abandoned' | 'closed') => void;
  wanted: () => boolean;
}

interface AddressState {
  failures: number;
  lastFailureAt: number;
  /** When a login from this address last succeeded (-Infinity: never). */
  lastSuccessAt: number;
  queue: Waiter[];
  /** Checks of this address running now (it is remembered until they end). */
  running: number;
}

/** Addresses remembered at most (their failure counts); beyond, the oldest idle ones are forgotten. */
const MAX_TRACKED_ADDRESSES = 10_000;

export class LoginThrottle {
  // Map order is the round-robin order: a served address moves to the back.
  private readonly addresses = new Map<string, AddressState>();
  private running = 0;
  /** Running checks of addresses that were not trusted when they started. */
  private runningUntrusted = 0;
  private waiting = 0;
  private started = 0;
  private timer: unknown;
  private closed = false;

  constructor(
    private readonly settings: LoginThrottleSettings = DEFAULT_LOGIN_THROTTLE,
    private readonly clock: ThrottleClock = REAL_CLOCK,
  ) {}

  /** Logins queued or being checked right now. */
  pending(): number {
    return this.waiting + this.running;
  }

  /**
   * Runs `check` for a login from `address` when its turn comes. `check` says whether the login
   * failed (feeds the back-off); `wanted` is asked just before running, so a client that hung up
   * while waiting costs no scrypt.
   */
  run<T>(address: string, check: () => Promise<{ value: T; failed: boolean }>, wanted: () => boolean = () => true): Promise<ThrottledRun<T>> {
    if (this.closed) return Promise.resolve({ ran: false, reason: 'closed' });
    if ((this.addresses.get(address)?.queue.length ?? 0) >= this.settings.maxPendingPerAddress) return Promise.resolve({ ran: false, reason: 'address-busy' });
    if (this.pending() >= this.settings.maxPending) return Promise.resolve({ ran: false, reason: 'overloaded' });
    const state = this.stateOf(address);

    const queuedAt = this.clock.now();
    const pendingAhead = this.pending();
    const startedBefore = this.started;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        wanted,
        cancel: (reason) => resolve({ ran: false, reason }),
        start: (tier) => {
          const wait: CheckWait = { queuedMs: this.clock.now() - queuedAt, pendingAhead, overtakenBy: this.started - startedBefore - 1 };
          Promise.resolve()
            .then(check)
            .then(
              ({ value, failed }) => {
                this.finish(address, state, tier, failed);
                resolve({ ran: true, value, wait });
              },
              (err: unknown) => {
                this.finish(address, state, tier, undefined);
                reject(err);
              },
            );
        },
      };
      state.queue.push(waiter);
      this.waiting++;
      this.pump();
    });
  }

  /**
   * How long a refused client from `address` should be kept waiting before it hears so: the
   * address's current back-off, at least the base one. Answering at once would only invite an
   * immediate reconnect, and the flood would turn into connection churn.
   */
  refusalDelayMs(address: string): number {
    const state = this.addresses.get(address);
    const failures = state ? this.currentFailures(state) : 0;
    return failures > 0 ? this.backoffMs(failures) : this.settings.backoffBaseMs;
  }

  /** Refuses everything still waiting (the broker is closing). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const state of this.addresses.values()) {
      for (const waiter of state.queue.splice(0)) waiter.cancel('closed');
    }
    this.waiting = 0;
  }

  /** `failed` undefined: the check itself broke, which says nothing about the address. */
  private finish(address: string, state: AddressState, tier: Tier, failed: boolean | undefined): void {
    this.running--;
    if (tier !== TRUSTED) this.runningUntrusted--;
    state.running--;
    if (failed === true) {
      state.failures = this.currentFailures(state) + 1;
      state.lastFailureAt = this.clock.now();
    } else if (failed === false) {
      state.failures = 0;
      state.lastSuccessAt = this.clock.now();
    }
    this.forgetIfIdle(address, state);
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    if (this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    // The last slot is kept for trusted addresses (with one slot in all, nobody is kept out).
    const untrustedSlots = Math.max(1, this.settings.concurrency - 1);
    let earliestRetry = Infinity;
    while (this.running < this.settings.concurrency && this.waiting > 0) {
      const now = this.clock.now();
      const untrustedMayStart = this.runningUntrusted < untrustedSlots;
      let chosen: { address: string; state: AddressState; tier: Tier } | undefined;
      earliestRetry = Infinity;
      for (const [address, state] of this.addresses) {
        if (state.queue.length === 0) continue;
        const tier = this.tierOf(state, now);
        if (tier === TRUSTED) {
          chosen = { address, state, tier };
          break;
        }
        if (!untrustedMayStart || (chosen && chosen.tier <= tier)) continue;
        if (tier === FAILING) {
          const readyAt = state.lastFailureAt + this.backoffMs(state.failures);
          if (readyAt > now) {
            earliestRetry = Math.min(earliestRetry, readyAt);
            continue;
          }
        }
        chosen = { address, state, tier };
      }
      if (!chosen) break;
      const { address, state, tier } = chosen;
      const waiter = state.queue.shift()!;
      this.waiting--;
      // To the back of the round robin.
      this.addresses.delete(address);
      this.addresses.set(address, state);
      if (!waiter.wanted()) {
        waiter.cancel('abandoned');
        this.forgetIfIdle(address, state);
        continue;
      }
      this.running++;
      if (tier !== TRUSTED) this.runningUntrusted++;
      state.running++;
      this.started++;
      waiter.start(tier);
    }
    if (this.running < this.settings.concurrency && this.waiting > 0 && earliestRetry !== Infinity) {
      this.timer = this.clock.setTimer(() => {
        this.timer = undefined;
        this.pump();
      }, Math.max(1, earliestRetry - this.clock.now()));
    }
  }

  private tierOf(state: AddressState, now: number): Tier {
    if (this.currentFailures(state) > 0) return FAILING;
    return now - state.lastSuccessAt <= this.settings.trustForMs ? TRUSTED : CLEAN;
  }

  private backoffMs(failures: number): number {
    return Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** Math.min(failures - 1, 30));
  }

  private currentFailures(state: AddressState): number {
    if (state.failures > 0 && this.clock.now() - state.lastFailureAt > this.settings.forgetAfterMs) state.failures = 0;
    return state.failures;
  }

  private stateOf(address: string): AddressState {
    let state = this.addresses.get(address);
    if (!state) {
      if (this.addresses.size >= MAX_TRACKED_ADDRESSES) this.forgetOldestIdle();
      state = { failures: 0, lastFailureAt: 0, lastSuccessAt: -Infinity, queue: [], running: 0 };
      this.addresses.set(address, state);
    }
    return state;
  }

  /** An address is worth remembering while it waits, is being checked, has failures to back off from or is trusted. */
  private forgetIfIdle(address: string, state: AddressState): void {
    if (state.queue.length > 0 || state.running > 0 || this.tierOf(state, this.clock.now()) !== CLEAN) return;
    if (this.addresses.get(address) === state) this.addresses.delete(address);
  }

  private forgetOldestIdle(): void {
    for (const [address, state] of this.addresses) {
      if (state.queue.length === 0 && state.running === 0) {
        this.addresses.delete(address);
        if (this.addresses.size < MAX_TRACKED_ADDRESSES) return;
      }
    }
  }
}
