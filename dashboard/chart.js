import { svg } from './dom.js';
import { t } from './i18n.js';

const W = 900;
const H = 240;
const PAD = { left: 40, right: 44, top: 12, bottom: 28 };

/**
 * Arrivals and tickets served per quarter hour as paired bars (left axis, tickets), with the
 * quarter's mean wait as a line (right axis, minutes). Plain SVG: no chart library on the box.
 */
export function quarterChart(perQuarter) {
  const quarters = trimIdle(Array.isArray(perQuarter) ? perQuarter : []);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('chartTitle'), class: 'quarter-chart' });
  if (quarters.length === 0) {
    root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis-label' }, t('noData')));
    return root;
  }
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxCount = niceMax(Math.max(1, ...quarters.map((q) => Math.max(q.issued, q.served))));
  const maxWait = niceMax(Math.max(1, ...quarters.map((q) => q.meanWaitSeconds / 60)));
  const slot = plotW / quarters.length;
  const bar = Math.max(1, Math.min(14, slot * 0.36));
  const y = (value, max) => PAD.top + plotH - (value / max) * plotH;

  for (let i = 0; i <= 4; i++) {
    const value = (maxCount * i) / 4;
    const yy = y(value, maxCount);
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: 'gridline' }));
    root.append(svg('text', { x: PAD.left - 6, y: yy + 4, 'text-anchor': 'end', class: 'axis-label' }, tick(value)));
    root.append(svg('text', { x: W - PAD.right + 6, y: yy + 4, class: 'axis-label wait' }, tick((maxWait * i) / 4)));
  }
  const points = [];
  quarters.forEach((q, i) => {
    const x = PAD.left + i * slot + slot / 2;
    root.append(svg('rect', { x: x - bar, y: y(q.issued, maxCount), width: bar, height: (q.issued / maxCount) * plotH, class: 'bar issued' }, svg('title', {}, `${q.start} ${t('arrivals')} ${q.issued}`)));
    root.append(svg('rect', { x, y: y(q.served, maxCount), width: bar, height: (q.served / maxCount) * plotH, class: 'bar served' }, svg('title', {}, `${q.start} ${t('served')} ${q.served}`)));
    points.push(`${x.toFixed(1)},${y(q.meanWaitSeconds / 60, maxWait).toFixed(1)}`);
    const labelEvery = Math.max(1, Math.ceil(quarters.length / 12));
    if (i % labelEvery === 0) root.append(svg('text', { x, y: H - 8, 'text-anchor': 'middle', class: 'axis-label' }, q.start));
  });
  root.append(svg('polyline', { points: points.join(' '), class: 'wait-line' }));
  return root;
}

/** Drops the empty quarters before the first and after the last activity. */
function trimIdle(quarters) {
  const busy = (q) => q.issued > 0 || q.served > 0;
  const first = quarters.findIndex(busy);
  if (first < 0) return [];
  let last = quarters.length - 1;
  while (last > first && !busy(quarters[last])) last--;
  return quarters.slice(first, last + 1);
}

function tick(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function niceMax(value) {
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}
