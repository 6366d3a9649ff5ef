/** Latency figures in milliseconds, rounded to microseconds. */
export interface Figures {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

export function figures(samples: readonly number[]): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples: sorted.length, p50: round3(percentile(sorted, 0.5)), p99: round3(percentile(sorted, 0.99)), max: round3(sorted[sorted.length - 1] ?? Number.NaN) };
}

export const formatFigures = (f: Figures, unit = 'ms'): string => `p50 ${f.p50} ${unit}, p99 ${f.p99} ${unit}, max ${f.max} ${unit} (${f.samples} samples)`;

export const roundMs = round3;
