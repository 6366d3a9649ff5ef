/**
 * The last N durations of something, for health reporting: where the call-next loop spends its
 * time on a running box (a fixed ring, so a long day costs no memory).
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;
  private total = 0;

  constructor(size = 1024) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    this.filled = Math.min(this.filled + 1, this.samples.length);
    this.total += 1;
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    const sorted = Array.from(this.samples.subarray(0, this.filled)).sort((a, b) => a - b);
    const at = (p: number) => round3(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
    return { count: this.total, p50: at(0.5), p99: at(0.99), max: round3(sorted.at(-1) ?? 0) };
  }
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;
