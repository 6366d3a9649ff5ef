import { round1 } from './stats-summary.js';

export const QUARTER_MS = 15 * 60_000;

export interface QuarterFigures {
  /** Local wall-clock start, HH:MM. */
  start: string;
  issued: number;
  served: number;
  /** Mean wait of the tickets that arrived in this quarter and have been called. */
  meanWaitSeconds: number;
}

interface Bucket {
  issued: number;
  served: number;
  waitSum: number;
  waitCount: number;
}

/** Beyond this span the series is not filled with empty quarters (bad clocks must not blow up memory). */
const MAX_FILLED_QUARTERS = 4 * 48;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Formatters are costly to build; one per time zone for the life of the process. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * Arrivals, services and waits per 15 minutes. Buckets are UTC quarter-hours: every real time
 * zone offset is a multiple of 15 minutes, so they are also local quarter-hours, and apply needs
 * no calendar work at all — the local label is made only for the snapshot.
 */
export class QuarterSeries {
  private readonly buckets = new Map<number, Bucket>();
  private readonly formatter: Intl.DateTimeFormat;

  constructor(timeZone: string) {
    this.formatter = formatterFor(timeZone);
  }

  issued(at: number): void {
    this.bucket(at).issued += 1;
  }

  served(at: number): void {
    this.bucket(at).served += 1;
  }

  /** A wait in whole ms, counted in the quarter its ticket arrived (summed as integers). */
  waited(issuedAt: number, ms: number): void {
    const bucket = this.bucket(issuedAt);
    bucket.waitSum += Math.max(0, Math.round(ms));
    bucket.waitCount += 1;
  }

  snapshot(): QuarterFigures[] {
    if (this.buckets.size === 0) return [];
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    const first = keys[0]!;
    const last = keys[keys.length - 1]!;
    const indexes = last - first < MAX_FILLED_QUARTERS ? Array.from({ length: last - first + 1 }, (_, i) => first + i) : keys;
    return indexes.map((index) => {
      const bucket = this.buckets.get(index);
      return {
        start: this.formatter.format(index * QUARTER_MS),
        issued: bucket?.issued ?? 0,
        served: bucket?.served ?? 0,
        meanWaitSeconds: bucket && bucket.waitCount > 0 ? round1(bucket.waitSum / bucket.waitCount / 1000) : 0,
      };
    });
  }

  private bucket(at: number): Bucket {
    const index = Math.floor(at / QUARTER_MS);
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = { issued: 0, served: 0, waitSum: 0, waitCount: 0 };
      this.buckets.set(index, bucket);
    }
    return bucket;
  }
}
