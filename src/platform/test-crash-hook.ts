/**
 * A test hook that makes the window between "the journal committed a request" and "its answer
 * left the box" reachable on purpose: with HALL_EDGE_TEST_CRASH_AFTER_COMMIT=<n> the daemon
 * SIGKILLs itself right after the n-th request outcome is durable, before anything (bus, MQTT
 * answer) sees it. The system test for exactly-once resends relies on it; unset (always, in
 * production) it costs one comparison per request.
 */
const crashAfter = Number(process.env.HALL_EDGE_TEST_CRASH_AFTER_COMMIT ?? 0);
let committed = 0;

export function afterRequestCommitted(): void {
  if (!(crashAfter > 0)) return;
  committed += 1;
  if (committed === crashAfter) process.kill(process.pid, 'SIGKILL');
}
