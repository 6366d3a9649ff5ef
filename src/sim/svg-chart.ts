import type { SweepResult } from './sweep.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Waiting p90 per service (and overall) against the variant, as a standalone SVG: a line per
 * service over the variants in their order, the target as a dashed line. No library: the
 * dashboard shows the same SVG string the CLI writes.
 */
export function p90Chart(result: SweepResult, options: { width?: number; height?: number; title?: string } = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 360;
  const pad = { left: 56, right: 170, top: 32, bottom: 48 };
  const variants = result.variants;
  const serviceIds = Object.keys(variants[0]?.services ?? {}).filter((id) => variants.some((v) => (v.services[id]?.issued ?? 0) > 0));
  const series = [...serviceIds.map((id) => ({ id, values: variants.map((v) => v.services[id]?.waitP90 ?? 0) })), { id: 'overall', values: variants.map((v) => v.overall.waitP90) }];
  const target = result.target?.p90Minutes;
  const maxY = Math.max(1, target ?? 0, ...series.flatMap((s) => s.values)) * 1.08;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (i: number): number => pad.left + (variants.length <= 1 ? plotW / 2 : (i * plotW) / (variants.length - 1));
  const y = (v: number): number => pad.top + plotH - (v / maxY) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${pad.left}" y="18" font-size="13">${escapeXml(options.title ?? 'Waiting p90 (minutes) by variant')}</text>`,
    `<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${pad.left + plotW}" y2="${pad.top + plotH}" stroke="#333"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${pad.top + plotH}" stroke="#333"/>`,
  ];
  const ticks = 5;
  for (let i = 0; i <= ticks; i += 1) {
    const v = (maxY * i) / ticks;
    parts.push(`<line x1="${pad.left}" y1="${y(v)}" x2="${pad.left + plotW}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  variants.forEach((v, i) => parts.push(`<text x="${x(i)}" y="${pad.top + plotH + 16}" text-anchor="middle">${escapeXml(v.windows > 0 && /^\d+ windows$/.test(v.label) ? String(v.windows) : v.label)}</text>`));
  parts.push(`<text x="${pad.left + plotW / 2}" y="${height - 10}" text-anchor="middle">variant (windows)</text>`);
  if (target !== undefined) {
    parts.push(`<line x1="${pad.left}" y1="${y(target)}" x2="${pad.left + plotW}" y2="${y(target)}" stroke="#000" stroke-dasharray="6 4"/>`, `<text x="${pad.left + plotW + 4}" y="${y(target) + 4}">target ${target} min</text>`);
  }
  series.forEach((s, k) => {
    const colour = s.id === 'overall' ? '#000' : COLOURS[k % COLOURS.length]!;
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="${s.id === 'overall' ? 2.5 : 1.5}" points="${points}"/>`);
    s.values.forEach((v, i) => parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${colour}"><title>${escapeXml(`${s.id}: ${v} min`)}</title></circle>`));
    const ly = pad.top + 14 * k + 20;
    parts.push(`<line x1="${width - pad.right + 24}" y1="${ly - 4}" x2="${width - pad.right + 40}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`, `<text x="${width - pad.right + 44}" y="${ly}">${escapeXml(s.id)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
