/**
 * What "your turn is near" costs the hall per commit: after every call-next the notifier asks
 * the queue core which notices are due (src/queue/notice-plan.ts) for every ticket whose visitor
 * left a contact. Measured on a busy day: 2000 waiting over 6 services and 32 windows, one
 * visitor in five with a contact (400 tracked), thresholds 5 and 1.
 *
 * Target, fixed before measuring: p99 ≤ 500 µs per call-next. The work runs after the commit,
 * off the frames' path (dispatcher stage `notify`, deferred), but it is event-loop time all the
 * same, and the daemon's own part of a call must stay well under a millisecond at p99.
 *
 *   node dist/bench/notice-plan-bench.js
 */
import { pathToFileURL } from 'node:url';
import { QueueEngine } from '../src/queue/engine.js';
import { NO_PROGRESS, planNotices, type NoticeProgress } from '../src/queue/notice-plan.js';
import { model } from './engine-bench.js';
import { figures, formatFigures, type Figures } from './stats.js';

export interface NoticePlanBenchResult {
  bench: 'notice-plan';
  waiting: number;
  tracked: number;
  /** planNotices after one call-next (with the notifier's progress map), microseconds. */
  planUs: Figures;
  noticesPlanned: number;
  targetP99Us: number;
  met: boolean;
}

const WAITING = 2000;
const CALLS = 3000;
const CONTACT_EVERY = 5;
const TARGET_P99_US = 500;
const THRESHOLDS = [5, 1];

export function run(): NoticePlanBenchResult {
  const m = model();
  const engine = new QueueEngine(m);
  let now = Date.UTC(2026, 10, 23, 1, 0, 0);
  for (const w of m.windows) engine.run({ type: 'login', windowId: w.id, staffId: `staff-${w.number}` }, now);
  const tracked = new Map<string, NoticeProgress>();
  let n = 0;
  const issue = (): void => {
    const events = engine.run({ type: 'issue', serviceId: m.services[n++ % m.services.length]!.id, channel: 'kiosk' }, now);
    const issued = events.find((e) => e.type === 'ticket.issued');
    if (issued?.type !== 'ticket.issued' || n % CONTACT_EVERY !== 0) return;
    // As Notifier.attach does: tracked, then what is already due.
    tracked.set(issued.ticket.number, NO_PROGRESS);
    absorb(planNotices(engine, tracked, [], THRESHOLDS, [issued.ticket.number]));
  };
  let planned = 0;
  const absorb = (plan: ReturnType<typeof planNotices>): void => {
    planned += plan.notices.length;
    for (const [number, p] of plan.progress) tracked.set(number, p);
    for (const number of plan.ended) tracked.delete(number);
  };
  for (let i = 0; i < WAITING; i++) issue();

  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    now += 1000;
    const events = engine.run({ type: 'call-next', windowId: m.windows[i % m.windows.length]!.id }, now);
    const start = process.hrtime.bigint();
    const plan = planNotices(engine, tracked, events, THRESHOLDS);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
    absorb(plan);
    for (const event of events) if (event.type === 'ticket.finished') tracked.delete(event.number);
    issue(); // keep the queue at 2000 waiting (untimed)
  }
  const planUs = figures(times);
  return { bench: 'notice-plan', waiting: WAITING, tracked: tracked.size, planUs, noticesPlanned: planned, targetP99Us: TARGET_P99_US, met: planUs.p99 <= TARGET_P99_US };
}

export function describe(r: NoticePlanBenchResult): string[] {
  return [
    `notices: planning after a call-next, ${r.waiting} waiting, ${r.tracked} with a contact: ${formatFigures(r.planUs, 'µs')}, ${r.noticesPlanned} notices planned — target p99 ≤ ${r.targetP99Us} µs: ${r.met ? 'met' : 'MISSED'}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = run();
  for (const line of describe(result)) console.log(line);
  console.log(JSON.stringify(result));
}
