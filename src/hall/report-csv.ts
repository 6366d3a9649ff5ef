import type { DayStats, Figures } from '../queue/stats.js';

const COLUMNS = [
  'issued', 'served', 'itemsServed', 'noShows', 'requeued', 'transfersIn', 'transfersOut', 'voided', 'expired', 'recalls', 'open',
  'waitMeanS', 'waitP50S', 'waitP90S', 'waitMaxS', 'handleMeanS', 'handleP50S', 'handleP90S', 'handleMaxS',
  'afterTransferCount', 'afterTransferMeanS', 'afterTransferP90S', 'afterTransferMaxS',
  'afterRequeueCount', 'afterRequeueMeanS', 'afterRequeueP90S', 'afterRequeueMaxS',
  'appointmentsCalled', 'appointmentLateMeanS', 'appointmentLateP90S', 'appointmentOnTimeRate',
  'rated', 'ratingTimeouts', 'ratingRate', 'satisfaction', 'r5', 'r4', 'r3', 'r2', 'r1',
] as const;

/**
 * A day's report as CSV: one row for the hall, then one per service, window and staff member,
 * then the quarter-hour series and the day's poor ratings (1-2) for the same-day follow-up.
 * Spreadsheet-friendly: a header row, comma separated, UTF-8 with a BOM so Excel shows the
 * Chinese names. Statistics stored before a figure existed give empty cells for it.
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
  lines.push('', ['day', 'poorRatingAt', 'ticket', 'service', 'window', 'staff', 'rating'].join(','));
  for (const r of stats.poorRatings ?? []) {
    lines.push([stats.day, new Date(r.at).toISOString(), r.number, r.serviceId, r.windowId, r.staffId ?? '', String(r.rating)].map(csvCell).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

const rate = (x: number | undefined): string => (x === undefined ? '' : String(Math.round(x * 10000) / 10000));

function figureCells(f: Figures): string[] {
  const r = f.ratings;
  const t = f.secondWaits?.afterTransfer;
  const q = f.secondWaits?.afterRequeue;
  const a = f.appointments;
  return [
    f.issued, f.served, f.itemsServed ?? '', f.noShows, f.requeued, f.transfersIn, f.transfersOut, f.voided, f.expired, f.recalls, f.open,
    f.waiting.mean, f.waiting.p50, f.waiting.p90, f.waiting.max, f.handling.mean, f.handling.p50, f.handling.p90, f.handling.max,
    t?.count ?? '', t?.mean ?? '', t?.p90 ?? '', t?.max ?? '',
    q?.count ?? '', q?.mean ?? '', q?.p90 ?? '', q?.max ?? '',
    a?.called ?? '', a?.meanLateSeconds ?? '', a?.p90LateSeconds ?? '', a ? rate(a.onTimeRate) : '',
    r.rated, r.timedOut, rate(r.rate), rate(r.satisfaction), r.split['5'], r.split['4'], r.split['3'], r.split['2'], r.split['1'],
  ].map(String);
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
