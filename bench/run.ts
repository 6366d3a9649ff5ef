/**
 * Every benchmark, one after another (they would disturb each other in parallel): human-readable
 * figures as each finishes, then one JSON line `{"bench": {...}}` for scripts and CI to keep.
 *
 *   npm run build && npm run bench
 *   HALL_EDGE_BENCH_DIR=/var/lib/hall-edge/tmp npm run bench   (journal bench on the box's real storage)
 */
import { run as journalBench } from './journal-bench.js';
import { describe as describeEngine, run as engineBench } from './engine-bench.js';
import { describe as describeNoticePlan, run as noticePlanBench } from './notice-plan-bench.js';
import { describe as describeAbuse, run as abuseBench } from './abuse-requests.js';
import { describe as describeLoop, run as callNextBench } from './call-next-loop.js';
import { describe as describeScale, run as scaleBench } from './hall-scale.js';
import { describe as describeLoginFlood, run as loginFloodBench } from './login-flood.js';
import { describe as describeUplink, run as uplinkBench } from './uplink-bench.js';
import { describe as describeSim, run as simBench } from './sim-bench.js';
import { describe as describeWatermark, run as watermarkBench } from './watermark-cost.js';
import { describe as describeRestart, run as restartYearBench } from './restart-year.js';

const started = Date.now();

const engine = engineBench();
for (const line of describeEngine(engine)) console.log(line);

const noticePlan = noticePlanBench();
for (const line of describeNoticePlan(noticePlan)) console.log(line);

const sim = simBench();
for (const line of describeSim(sim)) console.log(line);

const journal = journalBench();
console.log(`journal: append, 1 event per fsynced transaction: p50 ${journal.appendP50Ms} ms, p99 ${journal.appendP99Ms} ms, max ${journal.appendMaxMs} ms (${journal.appendSamples} samples, in ${journal.dir})`);
console.log(`journal: restart replay of ${journal.todayEvents} events (${journal.pastDays} past days in a ${journal.fileMB} MB file): ${journal.replayMs} ms — target < 1000 ms`);

// The journal watermark's cost on each call-next commit (the daemon's default mode), then a
// restart of the real daemon process on a year-long journal.
const watermark = watermarkBench();
for (const line of describeWatermark(watermark)) console.log(line);
const restartYear = await restartYearBench();
for (const line of describeRestart(restartYear)) console.log(line);

// The daemon in its own process, as on a real box.
const loop = await callNextBench({ separateProcess: true });
for (const line of describeLoop(loop)) console.log(line);
// 64 windows, PTY and wire-true; the PTY target is relative to the floor just measured.
const scale = await scaleBench({ floorLedP99Ms: loop.floor.relay.led.p99 });
for (const line of describeScale(scale)) console.log(line);

const uplink = await uplinkBench();
for (const line of describeUplink(uplink)) console.log(line);

const loginFlood = await loginFloodBench();
for (const line of describeLoginFlood(loginFlood)) console.log(line);

const abuse = await abuseBench();
for (const line of describeAbuse(abuse)) console.log(line);

console.log(`benchmarks took ${Math.round((Date.now() - started) / 100) / 10} s`);
console.log(JSON.stringify({ bench: { engine, noticePlan, journal, callNextLoop: loop, hallScale: scale, sim, uplink, loginFlood, watermark, restartYear, requestsUnderAbuse: abuse } }));
