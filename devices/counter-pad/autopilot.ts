import type { CounterPadSimulator } from './simulator.js';
import type { RatingLevel } from './messages.js';

/**
 * A scripted staff member per simulated pad, for the demo hall: logs in, calls, serves, finishes,
 * sometimes recalls, skips, transfers or takes a break; the customer rates mostly 5 or 4 and
 * sometimes walks away. All durations are in "hall seconds" divided by `speed`.
 */

export interface AutopilotOptions {
  /** 1 = real time; 60 = an hour of hall life per minute. */
  speed?: number;
  /** Staff id per pad address; default "staff-<address>". */
  staffIds?: Record<number, string>;
  /** Random source (tests pass a seeded one). */
  random?: () => number;
  /** Hall seconds: [min, max]. */
  walkUpSeconds?: [number, number];
  serveSeconds?: [number, number];
  idleRetrySeconds?: number;
  thinkSeconds?: [number, number];
  /** Where TRANSFER sends a ticket: a service id. Omit to never transfer. */
  transferToServiceId?: string;
}

/** 5: 62 %, 4: 24 %, 3: 6 %, 2: 2 %, 1: 1 %, no answer: 5 %. */
const RATING_DISTRIBUTION: Array<[RatingLevel | 'none', number]> = [
  [5, 0.62],
  [4, 0.24],
  [3, 0.06],
  [2, 0.02],
  [1, 0.01],
  ['none', 0.05],
];

export function pickRating(random: () => number): RatingLevel | 'none' {
  let r = random();
  for (const [level, share] of RATING_DISTRIBUTION) {
    if (r < share) return level;
    r -= share;
  }
  return 5;
}

export interface Autopilot {
  stop(): void;
  /** Tickets finished per pad so far. */
  readonly served: ReadonlyMap<number, number>;
}

export function startAutopilot(sim: CounterPadSimulator, options: AutopilotOptions = {}): Autopilot {
  const speed = options.speed ?? 1;
  const random = options.random ?? Math.random;
  let running = true;
  const timers = new Set<NodeJS.Timeout>();
  const served = new Map<number, number>();
  const between = ([min, max]: [number, number]): number => min + random() * (max - min);
  const sleep = (hallSeconds: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, (hallSeconds * 1000) / speed);
      timers.add(timer);
    });

  const onRateRequest = (address: number): void => {
    const choice = pickRating(random);
    if (choice === 'none') return; // the pad's own timeout answers RATE-TIMEOUT
    void sleep(between(options.thinkSeconds ?? [2, 8])).then(() => {
      if (running && sim.view(address).rateRequest) void sim.rate(address, choice).catch(() => undefined);
    });
  };
  sim.on('rate-request', onRateRequest);

  const staff = async (address: number): Promise<void> => {
    await sleep(random() * 5);
    await sim.press(address, { verb: 'LOGIN', staffId: options.staffIds?.[address] ?? `staff-${address}` });
    while (running) {
      if (random() < 0.03) {
        await sim.press(address, { verb: 'PAUSE', reason: '休息' });
        await sleep(between([60, 300]));
        await sim.press(address, 'RESUME');
        continue;
      }
      const next = await sim.press(address, 'NEXT');
      if (!next.ok) {
        await sleep(options.idleRetrySeconds ?? 15);
        continue;
      }
      await sleep(between(options.walkUpSeconds ?? [5, 30]));
      if (random() < 0.1) {
        await sim.press(address, 'RECALL');
        await sleep(between(options.walkUpSeconds ?? [5, 30]));
      }
      if (random() < 0.05) {
        await sim.press(address, 'SKIP');
        continue;
      }
      await sim.press(address, 'START');
      await sleep(between(options.serveSeconds ?? [180, 600]));
      if (options.transferToServiceId && random() < 0.05) {
        await sim.press(address, { verb: 'TRANSFER', toServiceId: options.transferToServiceId });
        continue;
      }
      const finish = await sim.press(address, 'FINISH');
      if (finish.ok) served.set(address, (served.get(address) ?? 0) + 1);
    }
  };
  for (const address of sim.addresses) {
    void staff(address).catch(() => undefined);
  }
  return {
    served,
    stop: () => {
      running = false;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      sim.off('rate-request', onRateRequest);
    },
  };
}
