import type { DayStats, Figures } from '../queue/stats.js';

const COLUMNS = [
  'issued', 'served', 'noShows', 'requeued', 'transfersIn', 'transfersOut', 'voided', 'expired', 'recalls', 'open',
  'waitMeanS', 'waitP50S', 'waitP90S', 'waitMaxS', 'handleMeanS', 'handleP50S', 'handleP90S', 'handleMaxS',
  'rated', 'ratingTimeouts', 'ratingRate', 'r5', 'r4', 'r3', 'r2', 'r1',
] as const;

/**
 * A day's report as CSV: one row for the hall, then one per service, window and staff member,
 * then the quarter-hour series. Spreadsheet-friendly: a header row, comma separated, UTF-8 with
 * a BOM so Excel shows the Chinese names.
 */
export function dayReportCsv(stats: DayStats, names: { services?: Record<string, string>; windows?: Record<string, string> } = {}): string {
  const rows: string[][] = [['day', 'scope', 'id', 'name', ...COLUMNS]];
  const add = (scope: string, id: string, name: string, f: Figures) => rows.push([stats.day, scope, id, name, ...figureCells(f)]);
  add('hall', '', '', stats.total);
  for (const [id, f] of Object.entries(stats.byService)) add('service', id, names.services?.[id] ?? '', f);
  for (const [id, f] of Object.entries(stats.byWindow)) add('window', id, names.windows?.[id] ?? '', f);
  for (const [id, f] of Object.entries(stats.byStaff)) add('staff', id, '', f);
  const lines = rows.map((row) => row.map(csvCell).join(','));
  lines.push('', ['day', 'quarter', 'issued', 'served', 'meanWaitSeconds'].join(','));
  for (const q of stats.perQuarter) lines.push([stats.day, q.start, q.issued, q.served, q.meanWaitSeconds].map((v) => csvCell(String(v))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

function figureCells(f: Figures): string[] {
  const r = f.ratings;
  return [
    f.issued, f.served, f.noShows, f.requeued, f.transfersIn, f.transfersOut, f.voided, f.expired, f.recalls, f.open,
    f.waiting.mean, f.waiting.p50, f.waiting.p90, f.waiting.max, f.handling.mean, f.handling.p50, f.handling.p90, f.handling.max,
    r.rated, r.timedOut, Math.round(r.rate * 10000) / 10000, r.split['5'], r.split['4'], r.split['3'], r.split['2'], r.split['1'],
  ].map(String);
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
