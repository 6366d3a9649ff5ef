import type { QueueModel } from '../queue/model.js';
import type { SimDayResult } from './simulator.js';

/** One service's (or the whole hall's) figures over the simulated days. Counts are per day (mean). */
export interface SimFigures {
  issued: number;
  served: number;
  /** Minutes, nearest rank over every ticket of every day; a ticket never called counts up to closing. */
  waitP50: number;
  waitP90: number;
  waitMax: number;
  waitMean: number;
  /** The most waiting at once on any day. */
  longestLine: number;
  /** Tickets still waiting at closing, per day (mean). */
  leftovers: number;
}

export interface VariantResult {
  label: string;
  windows: number;
  days: number;
  overall: SimFigures & { utilisation: number; refused: number };
  services: Record<string, SimFigures>;
  /** Busy ÷ staffed time per window, over the days. */
  utilisation: Record<string, number>;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const minutes = (ms: number): number => round1(ms / 60_000);

function nearestRank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

function figures(waits: number[], issued: number, served: number, longest: number, leftovers: number, days: number): SimFigures {
  const sorted = Float64Array.from(waits).sort();
  let sum = 0;
  for (const w of waits) sum += w;
  return {
    issued: round1(issued / days),
    served: round1(served / days),
    waitP50: minutes(nearestRank(sorted, 0.5)),
    waitP90: minutes(nearestRank(sorted, 0.9)),
    waitMax: minutes(sorted.length ? sorted[sorted.length - 1]! : 0),
    waitMean: minutes(waits.length ? sum / waits.length : 0),
    longestLine: longest,
    leftovers: round1(leftovers / days),
  };
}

/** The figures of one variant over its simulated days. */
export function summarise(label: string, model: QueueModel, days: ReadonlyArray<SimDayResult>): VariantResult {
  const n = Math.max(1, days.length);
  const services: Record<string, SimFigures> = {};
  const all: number[] = [];
  let issuedAll = 0;
  let servedAll = 0;
  let leftAll = 0;
  let longestAll = 0;
  for (const s of model.services) {
    const waits: number[] = [];
    let issued = 0;
    let served = 0;
    let longest = 0;
    let left = 0;
    for (const day of days) {
      for (const t of day.tickets) {
        if (t.serviceId !== s.id) continue;
        issued += 1;
        if (t.state === 'done') served += 1;
        if (t.waitMs !== undefined) waits.push(t.waitMs);
      }
      longest = Math.max(longest, day.longestLine[s.id] ?? 0);
      left += day.leftovers[s.id] ?? 0;
    }
    services[s.id] = figures(waits, issued, served, longest, left, n);
    all.push(...waits);
    issuedAll += issued;
    servedAll += served;
    leftAll += left;
  }
  for (const day of days) longestAll = Math.max(longestAll, day.longestLine.total ?? 0);
  const utilisation: Record<string, number> = {};
  let busy = 0;
  let staffed = 0;
  for (const w of model.windows) {
    let b = 0;
    let s = 0;
    for (const day of days) {
      b += day.windows[w.id]?.busyMs ?? 0;
      s += day.windows[w.id]?.staffedMs ?? 0;
    }
    utilisation[w.id] = s > 0 ? Math.round((b / s) * 1000) / 1000 : 0;
    busy += b;
    staffed += s;
  }
  const refused = days.reduce((sum, d) => sum + Object.values(d.refused).reduce((a, b) => a + b, 0), 0);
  return {
    label,
    windows: model.windows.length,
    days: days.length,
    overall: { ...figures(all, issuedAll, servedAll, longestAll, leftAll, n), utilisation: staffed > 0 ? Math.round((busy / staffed) * 1000) / 1000 : 0, refused: round1(refused / n) },
    services,
    utilisation,
  };
}

/** The worst service p90 of a variant (services with no tickets do not count). */
export function worstP90(result: VariantResult): { serviceId: string; p90: number } {
  let worst = { serviceId: '', p90: 0 };
  for (const [serviceId, f] of Object.entries(result.services)) if (f.issued > 0 && (worst.serviceId === '' || f.waitP90 > worst.p90)) worst = { serviceId, p90: f.waitP90 };
  return worst;
}
