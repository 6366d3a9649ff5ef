/**
 * A test hook that makes deferred work fail on purpose, so the guard around it can be tested in
 * the real daemon: with HALL_EDGE_TEST_FAULT_IN_DEFERRED=<task>[,<task>...] the FIRST run of each
 * named task throws inside its guard (task names as logged: "LED window push", "counter-pad ack",
 * "mqtt stage" ...). The system test test/system/deferred-guard.test.ts relies on it; unset
 * (always, in production) it costs one size check per deferred job.
 */
const pending = new Set(
  (process.env.HALL_EDGE_TEST_FAULT_IN_DEFERRED ?? '')
    .split(',')
    .map((task) => task.trim())
    .filter(Boolean),
);

export function injectDeferredFault(task: string): void {
  if (pending.size === 0 || !pending.delete(task)) return;
  throw new Error(`test fault injected into deferred work "${task}" (HALL_EDGE_TEST_FAULT_IN_DEFERRED)`);
}
