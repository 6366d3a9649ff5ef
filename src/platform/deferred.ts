import type { Logger } from './logger.js';
import { injectDeferredFault } from './test-fault-hook.js';

/**
 * Work a driver defers to after the current listener returns (a microtask, an immediate) runs
 * outside the event bus's try/catch: a throw there would end the daemon. `Deferred` runs such
 * work inside its own guard: the failure is logged with what was being done and counted, and
 * the daemon carries on.
 */
export class Deferred {
  private failureCount = 0;

  constructor(private readonly log: Logger) {}

  /** Failures caught so far (drivers publish it in their state). */
  get failures(): number {
    return this.failureCount;
  }

  /** After the current synchronous work, before any I/O (the turn's microtask queue). */
  microtask(what: string, work: () => void): void {
    queueMicrotask(() => this.run(what, withTestFault(what, work)));
  }

  /** After pending I/O callbacks of this turn (lets other listeners' writes go first). */
  immediate(what: string, work: () => void): void {
    setImmediate(() => this.run(what, withTestFault(what, work)));
  }

  private run(what: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.failureCount += 1;
      this.log.error({ err, task: what, failures: this.failureCount }, 'deferred device work failed; the daemon carries on');
    }
  }
}

/** The work as scheduled, with the test hook's fault first (a no-op unless a test asks for one). */
function withTestFault(what: string, work: () => void): () => void {
  return () => {
    injectDeferredFault(what);
    work();
  };
}
