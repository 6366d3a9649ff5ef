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
 * for: `apply` runs on every event, summaries are read far less often.
 */
export class DurationSample {
  private readonly values: number[] = [];
  private sum = 0;

  add(seconds: number): void {
    const value = seconds > 0 ? seconds : 0; // a clock step backwards must not give negative waits
    this.values.push(value);
    this.sum += value;
  }

  get count(): number {
    return this.values.length;
  }

  get mean(): number {
    return this.values.length === 0 ? 0 : this.sum / this.values.length;
  }

  summary(): Summary {
    const n = this.values.length;
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, max: 0 };
    const sorted = Float64Array.from(this.values).sort();
    return { count: n, mean: round1(this.sum / n), p50: nearestRank(sorted, 0.5), p90: nearestRank(sorted, 0.9), max: sorted[n - 1]! };
  }
}

/** Nearest-rank percentile: always a value that occurred, which is what people expect to read. */
function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
