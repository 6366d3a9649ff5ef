import type { TargetReport } from './engine.js';

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** One line per target: what the issue asks a run to print. */
export function formatReport(r: TargetReport): string {
  const slowest = r.slowest ? `${r.slowest.retimedMs.toFixed(3)} ms (first ${r.slowest.ms.toFixed(3)} ms, ${r.slowest.source}, ${r.slowest.bytes} B as JSON)` : '-';
  return [
    `${r.target.padEnd(20)} inputs ${String(r.inputs).padStart(8)}  refusals ${String(r.refusals).padStart(8)}  accepted ${String(r.accepted).padStart(8)}  failures ${r.failures.length}`,
    `${''.padEnd(20)} slowest ${slowest}; re-timed outliers ${r.retimedOutliers}`,
    `${''.padEnd(20)} heap peak ${mib(r.heap.peakBytes)}, after GC ${mib(r.heap.baselineBytes)} → ${mib(r.heap.finalBytes)}${r.streamPeakBuffered !== undefined ? `; long-lived parser buffered at most ${r.streamPeakBuffered} B` : ''}; ${r.seconds.toFixed(1)} s`,
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
  };
}
