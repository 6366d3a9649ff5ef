import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Rng } from './rng.js';
import { settle, type FuzzTarget, type RunResult } from './target.js';

/** One input slower than this is a hang candidate; it is timed again to tell a GC pause from real slowness. */
export const SLOW_INPUT_MS = 10;
/**
 * Extra timings (best of) before a twice-slow input counts as slow rather than as load on the box.
 * Each comes after a 1 ms sleep, so it starts on a fresh time slice. At load 15 on two cores a
 * 7 KB config that parses in ~4 ms still took 30 ms at best of six back-to-back timings; a parser
 * that really is slow on an input is slow all twenty-one times, and only outliers pay for this.
 */
export const RETIME_CONFIRMATIONS = 20;
/** Heap after a forced GC at the end may exceed the one after warm-up by at most this. */
export const HEAP_GROWTH_LIMIT_BYTES = 16 * 1024 * 1024;

export type FailureKind = 'exception' | 'property' | 'slow' | 'unbounded-stream' | 'heap-growth';

export interface Failure {
  kind: FailureKind;
  message: string;
  source?: string;
  input?: unknown;
  index?: number;
}

export interface TargetReport {
  target: string;
  parser: string;
  inputs: number;
  refusals: number;
  accepted: number;
  bySource: Record<string, number>;
  slowest: { ms: number; retimedMs: number; source: string; bytes: number; input: unknown } | undefined;
  /** Inputs first over SLOW_INPUT_MS that were fast when re-timed (GC pauses, a busy box). */
  retimedOutliers: number;
  heap: { baselineBytes: number; finalBytes: number; peakBytes: number; growthBytes: number };
  streamPeakBuffered?: number;
  failures: Failure[];
  seconds: number;
  /** Set when the run split the target's inputs over several processes (run.ts, mergeShards). */
  shards?: number;
}

export interface RunOptions {
  inputs: number;
  seed: number;
  /** Stop after this many failures (each one is saved; more of the same teach little). */
  maxFailures?: number;
  /** Called every 50,000 inputs with the figures so far (a run cut short still shows them). */
  onProgress?: (done: number, soFar: TargetReport) => void;
}

let forceGc: (() => void) | undefined;
/** A GC we can call without starting node with --expose-gc (so the vitest short run has it too). */
function gc(): void {
  if (!forceGc) {
    setFlagsFromString('--expose-gc');
    forceGc = runInNewContext('gc') as () => void;
  }
  forceGc();
}

const usedHeap = (): number => getHeapStatistics().used_heap_size;

function inputSize(json: unknown): number {
  return JSON.stringify(json)?.length ?? 0;
}

/** Inputs between two turns of the event loop (vitest's worker must answer its RPC while a target runs). */
const YIELD_EVERY = 500;

/** Runs `inputs` inputs through one target; never throws for the target's faults, reports them. */
export async function runTarget<I>(target: FuzzTarget<I>, options: RunOptions): Promise<TargetReport> {
  const started = performance.now();
  const rng = new Rng(options.seed);
  const maxFailures = options.maxFailures ?? 5;
  const totalWeight = target.sources.reduce((sum, s) => sum + s.weight, 0);
  const report: TargetReport = {
    target: target.name,
    parser: target.parser,
    inputs: 0,
    refusals: 0,
    accepted: 0,
    bySource: Object.fromEntries(target.sources.map((s) => [s.name, 0])),
    slowest: undefined,
    retimedOutliers: 0,
    heap: { baselineBytes: 0, finalBytes: 0, peakBytes: 0, growthBytes: 0 },
    failures: [],
    seconds: 0,
  };
  const warmUp = Math.min(10_000, Math.floor(options.inputs / 10));
  const heapEvery = 1000;
  let streamPeak = 0;

  const pickSource = (): number => {
    let ticket = rng.below(totalWeight);
    for (let index = 0; index < target.sources.length; index += 1) {
      const { weight } = target.sources[index]!;
      if (ticket < weight) return index;
      ticket -= weight;
    }
    return 0;
  };

  // Counts per source by index: a string-keyed update per input is a hash lookup we can skip.
  const sourceCounts = target.sources.map(() => 0);
  const stackTraceLimit = Error.stackTraceLimit;
  for (let i = 0; i < options.inputs && report.failures.length < maxFailures; i += 1) {
    if (i % YIELD_EVERY === 0) {
      // Errors thrown by parsers on bad input (their typed refusals, JSON.parse's SyntaxError, the
      // yaml package's one per syntax error) capture a stack trace each: for the config loader
      // that was a tenth of its time. A failure is reported by name, message and input, never by
      // stack, so traces are off while inputs run and back on while others may run.
      Error.stackTraceLimit = stackTraceLimit;
      await new Promise<void>((resolve) => setImmediate(resolve));
      Error.stackTraceLimit = 0;
    }
    if (i === warmUp) {
      gc();
      report.heap.baselineBytes = usedHeap();
    }
    const sourceIndex = pickSource();
    const source = target.sources[sourceIndex]!;
    const input = source.next(rng);
    sourceCounts[sourceIndex]! += 1;
    report.inputs += 1;
    const t0 = performance.now();
    let ms = 0;
    try {
      let result: RunResult;
      try {
        result = target.run(input);
      } finally {
        ms = performance.now() - t0;
      }
      const verdict = settle(result);
      if (verdict === 'accepted') report.accepted += 1;
      else report.refusals += 1;
    } catch (err) {
      const kind = (err as Error)?.name === 'PropertyViolation' ? 'property' : 'exception';
      report.failures.push({ kind, message: describe(err), source: source.name, input: target.toJson(input), index: i });
      continue;
    }
    // Wall time first (cheap); an outlier is timed again in CPU time, which a descheduled process
    // on a shared box does not inflate. A GC pause makes a one-off outlier; a parser that is
    // really slow on this input is slow again.
    // A target's own limit is never below SLOW_INPUT_MS, so it is asked for only past that.
    const limit = ms > SLOW_INPUT_MS ? Math.max(SLOW_INPUT_MS, target.slowLimitMs?.(input) ?? SLOW_INPUT_MS) : SLOW_INPUT_MS;
    if (ms > limit || ms > (report.slowest?.ms ?? 0)) {
      let retimedMs = timeOnce(target, input);
      // A second slow time is confirmed by the best of a few more before the input is called slow
      // (CPU time still moves with cache and frequency contention on a shared box).
      for (let extra = 0; extra < RETIME_CONFIRMATIONS && retimedMs > limit; extra += 1) {
        Error.stackTraceLimit = stackTraceLimit;
        await new Promise<void>((resolve) => setTimeout(resolve, 1));
        Error.stackTraceLimit = 0;
        retimedMs = Math.min(retimedMs, timeOnce(target, input));
      }
      if (ms > limit && retimedMs > limit) {
        report.failures.push({ kind: 'slow', message: `took ${ms.toFixed(2)} ms (wall), then ${retimedMs.toFixed(2)} ms at best re-timed (limit ${limit.toFixed(0)} ms)`, source: source.name, input: target.toJson(input), index: i });
      } else if (ms > limit) {
        report.retimedOutliers += 1;
      }
      const effective = Math.min(ms, retimedMs);
      if (effective > (report.slowest?.retimedMs ?? 0)) {
        const json = target.toJson(input);
        report.slowest = { ms, retimedMs: effective, source: source.name, bytes: inputSize(json), input: json };
      }
    }
    if (target.stream) {
      try {
        target.stream.feed(input);
      } catch (err) {
        report.failures.push({ kind: 'exception', message: `long-lived stream: ${describe(err)}`, source: source.name, input: target.toJson(input), index: i });
      }
      const buffered = target.stream.buffered();
      if (buffered > streamPeak) streamPeak = buffered;
      if (buffered > target.stream.bound) {
        report.failures.push({ kind: 'unbounded-stream', message: `the long-lived parser buffers ${buffered} bytes (bound ${target.stream.bound})`, source: source.name, index: i });
      }
    }
    if (i % heapEvery === 0) {
      const used = usedHeap();
      if (used > report.heap.peakBytes) report.heap.peakBytes = used;
      if (i % 50_000 === 0 && options.onProgress) {
        report.seconds = (performance.now() - started) / 1000;
        options.onProgress(i, report);
      }
    }
  }
  Error.stackTraceLimit = stackTraceLimit;
  target.sources.forEach((source, index) => (report.bySource[source.name]! += sourceCounts[index]!));
  gc();
  report.heap.finalBytes = usedHeap();
  if (report.heap.baselineBytes === 0) report.heap.baselineBytes = report.heap.finalBytes;
  report.heap.growthBytes = report.heap.finalBytes - report.heap.baselineBytes;
  if (report.heap.growthBytes > HEAP_GROWTH_LIMIT_BYTES) {
    report.failures.push({ kind: 'heap-growth', message: `heap grew by ${(report.heap.growthBytes / 1048576).toFixed(1)} MiB over the run (limit ${HEAP_GROWTH_LIMIT_BYTES / 1048576} MiB)` });
  }
  if (target.stream) report.streamPeakBuffered = streamPeak;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/**
 * This process's CPU time in ms, for re-timing outliers (a syscall: too dear for every input).
 * Each target runs in its own process, so the figure is the parser's, plus GC.
 */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * One more timing of an input: the lesser of its wall and CPU time. Wall time is inflated when the
 * process is descheduled, CPU time by accounting in scheduler ticks (and GC helper threads); an
 * input that is really slow is slow by both.
 */
function timeOnce<I>(target: FuzzTarget<I>, input: I): number {
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  try {
    target.run(input);
  } catch {
    // It passed once; the first outcome stands.
  }
  return Math.min(performance.now() - wall0, cpuMs() - cpu0);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 2000);
  return `non-Error thrown: ${String(err)}`.slice(0, 2000);
}

/** Replays one saved input; returns what happened (for the regression test and the saved vector). */
export function replay<I>(target: FuzzTarget<I>, json: unknown): { verdict: string } {
  return { verdict: settle(target.run(target.fromJson(json))) };
}
