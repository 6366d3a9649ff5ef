/**
 * What the journal watermark adds to each commit on the call-next path: one journal commit of a
 * call-next's events (finish + call, fsynced) with and without the watermark update (one pwrite
 * and one fdatasync of a 4 KiB slot), ALTERNATING, so both see the same disk and the same load.
 * The cost is judged per pair (with − without, the two commits made next to each other), not by
 * subtracting percentiles. Target and rule, fixed before measuring: median per-pair cost ≤ 1 ms
 * (in the same storage as the journal; HALL_EDGE_BENCH_DIR points it at the box's real storage).
 *
 *   node dist/bench/watermark-cost.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Journal } from '../src/journal/journal.js';
import { WatermarkWriter } from '../src/journal/watermark.js';
import { silentLogger } from '../src/platform/logger.js';
import type { HallEvent } from '../src/queue/events.js';

export const TARGET_MEDIAN_PAIR_MS = 1;
const PAIRS = 300;

export interface WatermarkCostResult {
  bench: 'watermark-cost';
  mode: string;
  dir: string;
  pairs: number;
  withoutP50Ms: number;
  withoutP99Ms: number;
  withP50Ms: number;
  withP99Ms: number;
  pairCostP50Ms: number;
  pairCostP90Ms: number;
  targetMedianMs: number;
  met: boolean;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
};

export function run(options: { syncEachCommit?: boolean } = {}): WatermarkCostResult {
  const base = process.env.HALL_EDGE_BENCH_DIR ?? tmpdir();
  const dir = mkdtempSync(join(base, 'watermark-cost-'));
  const log = silentLogger();
  try {
    const plain = Journal.open(join(dir, 'plain', 'journal.db'), log);
    const guarded = Journal.open(join(dir, 'guarded', 'journal.db'), log);
    const writer = new WatermarkWriter({ path: join(dir, 'guarded', 'journal.watermark'), log, syncEachCommit: options.syncEachCommit, start: { lastSeq: 0, day: null, tickets: {}, gen: 1 } });
    guarded.onAppended((events) => writer.advance(events));
    const day = '2026-11-23';
    const callNext = (i: number): HallEvent[] => [
      { type: 'ticket.finished', at: i, day, number: `A${String(i).padStart(4, '0')}`, windowId: 'w1', staffId: 's1' },
      { type: 'ticket.called', at: i, day, number: `A${String(i + 1).padStart(4, '0')}`, windowId: 'w1', staffId: 's1', reason: 'next' },
    ];
    const without: number[] = [];
    const withWatermark: number[] = [];
    const pairs: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      // Alternate which goes first, so neither always follows the other's fsync.
      const timeOne = (journal: Journal) => {
        const start = performance.now();
        journal.append(callNext(i));
        return performance.now() - start;
      };
      let a: number;
      let b: number;
      if (i % 2 === 0) {
        a = timeOne(plain);
        b = timeOne(guarded);
      } else {
        b = timeOne(guarded);
        a = timeOne(plain);
      }
      without.push(a);
      withWatermark.push(b);
      pairs.push(b - a);
    }
    if (writer.counters().writes !== PAIRS) throw new Error(`the watermark was written ${writer.counters().writes} times, expected ${PAIRS}`);
    void writer.close();
    plain.close();
    guarded.close();
    const pairCostP50Ms = round3(percentile(pairs, 0.5));
    return {
      bench: 'watermark-cost',
      mode: options.syncEachCommit ? 'fdatasync inside each commit' : 'written inside each commit, fdatasync in the background (the default)',
      dir: base,
      pairs: PAIRS,
      withoutP50Ms: round3(percentile(without, 0.5)),
      withoutP99Ms: round3(percentile(without, 0.99)),
      withP50Ms: round3(percentile(withWatermark, 0.5)),
      withP99Ms: round3(percentile(withWatermark, 0.99)),
      pairCostP50Ms,
      pairCostP90Ms: round3(percentile(pairs, 0.9)),
      targetMedianMs: TARGET_MEDIAN_PAIR_MS,
      met: pairCostP50Ms <= TARGET_MEDIAN_PAIR_MS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describe(r: WatermarkCostResult): string[] {
  return [
    `watermark on the call-next commit, ${r.mode} (${r.pairs} alternating pairs in ${r.dir}): commit p50 ${r.withoutP50Ms} → ${r.withP50Ms} ms, p99 ${r.withoutP99Ms} → ${r.withP99Ms} ms`,
    `  per-pair cost median ${r.pairCostP50Ms} ms, p90 ${r.pairCostP90Ms} ms — target median ≤ ${r.targetMedianMs} ms: ${r.met ? 'met' : 'MISSED'}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const syncEachCommit of [false, true]) {
    const result = run({ syncEachCommit });
    for (const line of describe(result)) console.log(line);
    console.log(JSON.stringify(result));
  }
}
