/**
 * Schedules password checks (scrypt, ~50 ms of a core each) so a flood of logins cannot push a
 * real one to the back of a long line:
 * - at most `concurrency` checks run at once (the rest of the libuv pool stays free for the
 *   journal and the network);
 * - waiting checks are served per remote address, addresses without recent failures first,
 *   then in turn: a flooding address waits behind its own attempts, not in front of others';
 * - after a failure an address's next check waits `backoffBaseMs`, doubling per further failure
 *   up to `backoffMaxMs` (a success, or `forgetAfterMs` without failure, clears it);
 * - an address may have `maxPendingPerAddress` logins waiting, all addresses `maxPending`;
 *   beyond that a login is refused at once, without running scrypt.
 */
export interface LoginThrottleSettings {
  concurrency: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  forgetAfterMs: number;
  maxPendingPerAddress: number;
  maxPending: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = {
  concurrency: 2,
  backoffBaseMs: 250,
  backoffMaxMs: 8_000,
  forgetAfterMs: 60_000,
  maxPendingPerAddress: 8,
  maxPending: 256,
};

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
  start: () => void;
  cancel: (reason: 'abandoned' | 'closed') => void;
  wanted: () => boolean;
}

interface AddressState {
  failures: number;
  lastFailureAt: number;
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
        start: () => {
          const wait: CheckWait = { queuedMs: this.clock.now() - queuedAt, pendingAhead, overtakenBy: this.started - startedBefore - 1 };
          Promise.resolve()
            .then(check)
            .then(
              ({ value, failed }) => {
                this.finish(address, state, failed);
                resolve({ ran: true, value, wait });
              },
              (err: unknown) => {
                this.finish(address, state, false);
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

  private finish(address: string, state: AddressState, failed: boolean): void {
    this.running--;
    state.running--;
    if (failed) {
      state.failures = this.currentFailures(state) + 1;
      state.lastFailureAt = this.clock.now();
    } else {
      state.failures = 0;
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
    let earliestRetry = Infinity;
    while (this.running < this.settings.concurrency && this.waiting > 0) {
      const now = this.clock.now();
      let chosen: [string, AddressState] | undefined;
      let suspect: [string, AddressState] | undefined;
      earliestRetry = Infinity;
      for (const entry of this.addresses) {
        const state = entry[1];
        if (state.queue.length === 0) continue;
        const failures = this.currentFailures(state);
        if (failures === 0) {
          chosen = entry;
          break;
        }
        const readyAt = state.lastFailureAt + this.backoffMs(failures);
        if (readyAt <= now) suspect ??= entry;
        else earliestRetry = Math.min(earliestRetry, readyAt);
      }
      chosen ??= suspect;
      if (!chosen) break;
      const [address, state] = chosen;
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
      state.running++;
      this.started++;
      waiter.start();
    }
    if (this.running < this.settings.concurrency && this.waiting > 0 && earliestRetry !== Infinity) {
      this.timer = this.clock.setTimer(() => {
        this.timer = undefined;
        this.pump();
      }, Math.max(1, earliestRetry - this.clock.now()));
    }
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
      state = { failures: 0, lastFailureAt: 0, queue: [], running: 0 };
      this.addresses.set(address, state);
    }
    return state;
  }

  /** An address is worth remembering while it waits, is being checked or has failures to back off from. */
  private forgetIfIdle(address: string, state: AddressState): void {
    if (state.queue.length === 0 && state.running === 0 && this.currentFailures(state) === 0 && this.addresses.get(address) === state) this.addresses.delete(address);
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
