import type { Logger } from '../platform/logger.js';
import { injectDeferredFault } from '../platform/test-fault-hook.js';
import type { SequencedEvent } from '../queue/events.js';

/**
 * What happens after a commit, in the order it happens. The journal commit itself comes first
 * (nothing below runs for events that are not durable); then:
 *
 *   frames — device drivers hear `event`: LED displays and counter pads queue their frames
 *   mqtt   — the events go to the broker (after the frames: the broker's work must not delay them)
 *   voice  — call announcements (`announce`) for the voice caller
 *   state  — retained state documents (window/…, queue/…, stats/today), coalesced per burst
 *   notify — "your turn is near" notices for visitors who left a contact (src/notify)
 *   log    — one journal line per event in the daemon log: nothing waits for it, so it is last
 *
 * `journal` is counted here too: a group commit that failed (its commands were answered with an
 * error and nothing of them was shown).
 */
export const STAGES = ['journal', 'frames', 'mqtt', 'voice', 'state', 'notify', 'log'] as const;
export type StageName = (typeof STAGES)[number];
/**
 * What a visitor sees first: in a group commit these run for every command of the group before
 * the stages after them run for any (Hall.flush), so the group's LED calls leave together.
 */
const FRAME_STAGES: readonly StageName[] = ['journal', 'frames'];
const AFTER_FRAME_STAGES: readonly StageName[] = STAGES.filter((stage) => !FRAME_STAGES.includes(stage));

export type StageHandler = (events: readonly SequencedEvent[]) => void;

export interface StageCounters {
  /** Handler calls and deferred jobs run. */
  runs: number;
  /** Of those, how many threw (each logged; the other stages ran regardless). */
  failures: number;
}

/**
 * The guarded dispatcher. Every stage's handlers run in try/catch, so a throw in one (a driver
 * bug, a broker that refuses a payload) is logged and counted, and the later stages and the
 * next command still run. Work a stage wants to do later is scheduled through `defer`, which
 * keeps the same guard: nothing after a commit runs outside it, so one throw can never end the
 * daemon as an uncaught exception.
 */
export class OutputDispatcher {
  private readonly handlers = new Map<StageName, StageHandler[]>();
  private readonly counters = new Map<StageName, StageCounters>();

  constructor(private readonly log: Logger) {
    for (const stage of STAGES) {
      this.handlers.set(stage, []);
      this.counters.set(stage, { runs: 0, failures: 0 });
    }
  }

  /** Adds a handler to a stage (after the ones already there). Returns the way to remove it. */
  on(stage: StageName, handler: StageHandler): () => void {
    this.handlers.get(stage)!.push(handler);
    return () => {
      const list = this.handlers.get(stage)!;
      const at = list.indexOf(handler);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** Runs every stage, in order, for one command's committed events. */
  dispatch(events: readonly SequencedEvent[]): void {
    this.dispatchFrames(events);
    this.dispatchAfterFrames(events);
  }

  /** The stages up to `frames` for one command's events (in a group: for each command, before any dispatchAfterFrames). */
  dispatchFrames(events: readonly SequencedEvent[]): void {
    this.runStages(FRAME_STAGES, events);
  }

  /** The stages after `frames` for one command's events. */
  dispatchAfterFrames(events: readonly SequencedEvent[]): void {
    this.runStages(AFTER_FRAME_STAGES, events);
  }

  private runStages(stages: readonly StageName[], events: readonly SequencedEvent[]): void {
    if (events.length === 0) return;
    for (const stage of stages) {
      for (const handler of this.handlers.get(stage)!) this.guard(stage, () => handler(events));
    }
  }

  /**
   * Runs `job` later under the stage's guard: 'microtask' right after the current synchronous
   * work (e.g. after drivers' own microtasks queued before it), 'immediate' after pending I/O.
   */
  defer(stage: StageName, job: () => void, when: 'microtask' | 'immediate' = 'microtask'): void {
    const run = (): void => {
      injectDeferredFault(`${stage} stage`); // a test hook; nothing unless a test asks for it
      job();
    };
    if (when === 'microtask') queueMicrotask(() => this.guard(stage, run));
    else setImmediate(() => this.guard(stage, run));
  }

  /** Runs `job` now under the stage's guard; true when it did not throw. */
  guard(stage: StageName, job: () => void): boolean {
    const counters = this.counters.get(stage)!;
    counters.runs += 1;
    try {
      job();
      return true;
    } catch (err) {
      this.failed(stage, err);
      return false;
    }
  }

  /** Counts a failure found elsewhere: a failed commit, or listeners the event bus caught (and logged). */
  failed(stage: StageName, err: unknown, count = 1): void {
    this.counters.get(stage)!.failures += count;
    if (err !== undefined) this.log.error({ err, stage }, `${stage} stage failed after a commit`);
  }

  /** Per stage: runs and failures since start, for `health`. */
  health(): Record<StageName, StageCounters> {
    return Object.fromEntries(STAGES.map((stage) => [stage, { ...this.counters.get(stage)! }])) as Record<StageName, StageCounters>;
  }
}
