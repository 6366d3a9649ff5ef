import type { TargetReport } from './engine.js';

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** One line per target: what the issue asks a run to print. */
export function formatReport(r: TargetReport): string {
  const slowest = r.slowest ? `${r.slowest.retimedMs.toFixed(3)} ms (first ${r.slowest.ms.toFixed(3)} ms, ${r.slowest.source}, ${r.slowest.bytes} B as JSON)` : '-';
  return [
    `${r.target.padEnd(20)} inputs ${String(r.inputs).padStart(8)}  refusals ${String(r.refusals).padStart(8)}  accepted ${String(r.accepted).padStart(8)}  failures ${r.failures.length}`,
    `${''.padEnd(20)} slowest ${slowest}; re-timed outliers ${r.retimedOutliers}`,
    `${''.padEnd(20)} heap peak ${mib(r.heap.peakBytes)}, after GC ${mib(r.heap.baselineBytes)} → ${mib(r.heap.finalBytes)}${r.streamPeakBuffered !== undefined ? `; long-lived parser buffered at most ${r.streamPeakBuffered} B` : ''}; ${r.seconds.toFixed(1)} s${r.shards ? ` (${r.shards} processes side by side, seconds added)` : ''}`,
    `${''.padEnd(20)} sources ${Object.entries(r.bySource).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...r.failures.map((f) => `${''.padEnd(20)} FAILURE ${f.kind}: ${f.message}`),
  ].join('\n');
}

/** The figures for the closing JSON line, without the inputs themselves. */
export function summarise(r: TargetReport): Record<string, unknown> {
  return {
    target: r.target,
    inputs: r.inputs,
    refusals: r.refusals,
    accepted: r.accepted,
    failures: r.failures.length,
    slowestMs: r.slowest ? Number(r.slowest.retimedMs.toFixed(3)) : 0,
    slowestFirstMs: r.slowest ? Number(r.slowest.ms.toFixed(3)) : 0,
    retimedOutliers: r.retimedOutliers,
    peakHeapMiB: Number((r.heap.peakBytes / 1048576).toFixed(1)),
    heapGrowthMiB: Number((r.heap.growthBytes / 1048576).toFixed(2)),
    ...(r.streamPeakBuffered !== undefined ? { streamPeakBuffered: r.streamPeakBuffered } : {}),
    seconds: Number(r.seconds.toFixed(1)),
    ...(r.shards ? { shards: r.shards } : {}),
  };
}

/** The figures so far, for the progress lines of a long run (a run stopped early still leaves them). */
export function progressLine(r: TargetReport): string {
  const slowest = r.slowest ? `${r.slowest.retimedMs.toFixed(3)} ms` : '-';
  return `inputs ${r.inputs}, refusals ${r.refusals}, accepted ${r.accepted}, failures ${r.failures.length}, slowest ${slowest}, heap peak ${mib(r.heap.peakBytes)}, ${r.seconds.toFixed(0)} s`;
}

/**
 * One target's report from the reports of its shards (processes that ran part of its inputs):
 * counts add up; slowest input, peak heap and stream buffer are the worst of any shard; the heap
 * figures shown are those of the shard whose heap grew most (each shard was checked on its own).
 */
export function mergeShards(shards: readonly TargetReport[]): TargetReport {
  if (shards.length === 1) return shards[0]!;
  const [first, ...rest] = shards as [TargetReport, ...TargetReport[]];
  const worstHeap = shards.reduce((a, b) => (b.heap.growthBytes > a.heap.growthBytes ? b : a)).heap;
  const slowest = shards.map((r) => r.slowest).reduce((a, b) => (b && (!a || b.retimedMs > a.retimedMs) ? b : a), undefined);
  const streams = shards.map((r) => r.streamPeakBuffered).filter((n): n is number => n !== undefined);
  const bySource = { ...first.bySource };
  for (const r of rest) for (const [name, count] of Object.entries(r.bySource)) bySource[name] = (bySource[name] ?? 0) + count;
  const sum = (pick: (r: TargetReport) => number): number => shards.reduce((n, r) => n + pick(r), 0);
  return {
    target: first.target,
    parser: first.parser,
    inputs: sum((r) => r.inputs),
    refusals: sum((r) => r.refusals),
    accepted: sum((r) => r.accepted),
    bySource,
    slowest,
    retimedOutliers: sum((r) => r.retimedOutliers),
    heap: { ...worstHeap, peakBytes: Math.max(...shards.map((r) => r.heap.peakBytes)) },
    ...(streams.length > 0 ? { streamPeakBuffered: Math.max(...streams) } : {}),
    failures: shards.flatMap((r) => r.failures),
    // Process-seconds: the shards ran side by side.
    seconds: sum((r) => r.seconds),
    shards: shards.length,
  };
}
