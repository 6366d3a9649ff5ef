/** Durations of a group, in seconds. All zeros when there are none. */
export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  max: number;
}

/**
 * Collects durations cheaply (push and a running sum) and sorts only when a summary is asked
 * for: `apply` runs on every event, summaries are read far less often. Durations are whole
 * milliseconds (event times are epoch ms) and summed as integers: a mean of decimal seconds
 * drifted by 0.1 s against an independent recount of the same day.
 */
export class DurationSample {
  private readonly values: number[] = [];
  private sum = 0;

  /** A duration in ms; a clock step backwards must not give a negative duration. */
  addMs(ms: number): void {
    const value = ms > 0 ? Math.round(ms) : 0;
    this.values.push(value);
    this.sum += value;
  }

  get count(): number {
    return this.values.length;
  }

  /** Mean in seconds, unrounded. */
  get mean(): number {
    return this.values.length === 0 ? 0 : this.sum / this.values.length / 1000;
  }

  summary(): Summary {
    const n = this.values.length;
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, max: 0 };
    const sorted = Float64Array.from(this.values).sort();
    return { count: n, mean: meanSeconds(this.sum, n), p50: nearestRank(sorted, 0.5) / 1000, p90: nearestRank(sorted, 0.9) / 1000, max: sorted[n - 1]! / 1000 };
  }
}

/**
 * Signed offsets in ms (a call before the booked slot is negative), for appointment punctuality;
 * also counts how many are at or under a tolerance.
 */
export class OffsetSample {
  private readonly values: number[] = [];
  private sum = 0;
  private within = 0;

  constructor(private readonly toleranceMs: number) {}

  addMs(ms: number): void {
    const value = Math.round(ms);
    this.values.push(value);
    this.sum += value;
    if (value <= this.toleranceMs) this.within += 1;
  }

  summary(): { count: number; meanSeconds: number; p90Seconds: number; onTime: number; onTimeRate: number } {
    const n = this.values.length;
    if (n === 0) return { count: 0, meanSeconds: 0, p90Seconds: 0, onTime: 0, onTimeRate: 0 };
    const sorted = Float64Array.from(this.values).sort();
    return { count: n, meanSeconds: meanSeconds(this.sum, n), p90Seconds: nearestRank(sorted, 0.9) / 1000, onTime: this.within, onTimeRate: Math.round((this.within / n) * 10000) / 10000 };
  }
}

/** Integer ms sum → mean in seconds to 0.1 s, rounded once at the end. */
function meanSeconds(sumMs: number, n: number): number {
  return Math.round(sumMs / n / 100) / 10;
}

/** Nearest-rank percentile: always a value that occurred, which is what people expect to read. */
function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
