import type { QueueModel } from '../queue/model.js';
import type { SimFigures, VariantResult } from './results.js';
import type { SweepResult } from './sweep.js';

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

function figureCells(f: SimFigures): Array<string | number> {
  return [f.issued, f.served, f.waitP50, f.waitP90, f.waitMax, f.longestLine, f.leftovers];
}

/** Per service and overall, for one variant. */
export function serviceTable(v: VariantResult, model: QueueModel): string {
  const rows = model.services.map((s) => [s.id, ...figureCells(v.services[s.id]!), '']);
  rows.push(['overall', ...figureCells(v.overall), pct(v.overall.utilisation)]);
  return table(['service', 'issued', 'served', 'wait p50', 'p90', 'max (min)', 'longest line', 'leftovers', 'utilisation'], rows);
}

/** One line per variant: the hall's figures and its worst service. */
export function variantTable(result: SweepResult): string {
  const worst = new Map(result.target?.worst.map((w) => [w.label, w]) ?? []);
  const rows = result.variants.map((v) => {
    const w = worst.get(v.label) ?? worstOf(v);
    return [v.label, v.windows, v.overall.issued, v.overall.served, v.overall.waitP50, v.overall.waitP90, v.overall.waitMax, `${w.p90} ${w.serviceId}`, v.overall.longestLine, v.overall.leftovers, pct(v.overall.utilisation)];
  });
  return table(['variant', 'windows', 'issued', 'served', 'wait p50', 'p90', 'max (min)', 'worst service p90', 'longest line', 'leftovers', 'utilisation'], rows);
}

function worstOf(v: VariantResult): { serviceId: string; p90: number } {
  let worst = { serviceId: '', p90: -1 };
  for (const [serviceId, f] of Object.entries(v.services)) if (f.issued > 0 && f.waitP90 > worst.p90) worst = { serviceId, p90: f.waitP90 };
  return worst;
}

export function targetAnswerText(result: SweepResult): string {
  const t = result.target;
  if (!t) return '';
  if (t.windows === undefined) {
    const most = result.variants[result.variants.length - 1];
    return `No variant keeps every service's p90 wait ≤ ${t.p90Minutes} min${most ? ` (with ${most.windows} windows the worst is ${worstOf(most).serviceId} at ${worstOf(most).p90} min)` : ''}.`;
  }
  return `The fewest windows that keep every service's p90 wait ≤ ${t.p90Minutes} min: ${t.windows} (${t.label}).`;
}

/** One row per variant and scope (overall, then each service). */
export function sweepCsv(result: SweepResult): string {
  const header = ['variant', 'windows', 'scope', 'issued', 'served', 'waitP50Min', 'waitP90Min', 'waitMaxMin', 'waitMeanMin', 'longestLine', 'leftovers', 'utilisation'];
  const lines = [header.join(',')];
  const cells = (f: SimFigures): Array<string | number> => [f.issued, f.served, f.waitP50, f.waitP90, f.waitMax, f.waitMean, f.longestLine, f.leftovers];
  for (const v of result.variants) {
    lines.push([v.label, v.windows, 'overall', ...cells(v.overall), v.overall.utilisation].join(','));
    for (const [id, f] of Object.entries(v.services)) lines.push([v.label, v.windows, id, ...cells(f), ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}
