import type { QueueModel, Skill, WindowDef } from '../queue/model.js';

/** A hall to try: a label and the model to run. */
export interface Variant {
  label: string;
  /** Number of windows, for the chart's axis and the --target-p90 answer. */
  windows: number;
  model: QueueModel;
}

/**
 * Windows with the same skills, mode and lane are one kind: the unit added or removed. The
 * schedule is not part of it (a lunch-duty window is still a window of its kind); a clone keeps
 * its template's schedule.
 */
function kindKey(w: WindowDef): string {
  return JSON.stringify([w.skills, w.skillMode, w.priorityWindow]);
}

/**
 * The hall with `count` windows. Windows are grouped into kinds (same skills, mode and lane); removing takes the last window of the kind that keeps the largest share of its
 * original size (every kind keeps one window); adding clones a window of the kind with the
 * smallest share, larger kinds first. So the hall shrinks and grows in its own proportions, and
 * no service loses its last window. Added windows get ids `<id>+<n>` and numbers after the highest.
 */
export function resizeWindows(model: QueueModel, count: number): QueueModel {
  if (!Number.isInteger(count) || count < 1) throw new Error(`a hall needs at least one window, got ${count}`);
  const kinds = new Map<string, WindowDef[]>();
  for (const w of model.windows) {
    const key = kindKey(w);
    kinds.set(key, [...(kinds.get(key) ?? []), w]);
  }
  const groups = [...kinds.values()].map((original) => ({ original, current: [...original] }));
  const share = (g: (typeof groups)[number]): number => g.current.length / g.original.length;
  let total = model.windows.length;
  let nextNumber = Math.max(...model.windows.map((w) => w.number)) + 1;
  while (total > count) {
    const candidates = groups.filter((g) => g.current.length > 1);
    if (candidates.length === 0) throw new Error(`the hall cannot go below ${groups.length} windows: every kind of window keeps one`);
    candidates.sort((a, b) => share(b) - share(a) || b.current.length - a.current.length);
    candidates[0]!.current.pop();
    total -= 1;
  }
  while (total < count) {
    const sorted = [...groups].sort((a, b) => share(a) - share(b) || b.original.length - a.original.length);
    const g = sorted[0]!;
    const template = g.original[(g.current.length - g.original.length) % g.original.length]!;
    const clone: WindowDef = { ...template, id: `${template.id}+${g.current.length - g.original.length + 1}`, number: nextNumber, name: { zh: `${nextNumber}号窗口`, en: `Window ${nextNumber}` } };
    nextNumber += 1;
    g.current.push(clone);
    total += 1;
  }
  const kept = new Set(groups.flatMap((g) => g.current));
  // Config order first (the windows kept), then the added ones.
  const windows = [...model.windows.filter((w) => kept.has(w)), ...groups.flatMap((g) => g.current.filter((w) => !model.windows.includes(w)))];
  return { ...model, windows };
}

/**
 * Skills overrides, as typed on the command line: `w13,w14=medical-insurance;w15=medical-insurance*3,social-security`.
 * `;` separates assignments, `,` separates the windows of one and its skills; `*N` gives a
 * weight and makes the window weighted, otherwise the order is the preference.
 */
export function applySkills(model: QueueModel, spec: string): QueueModel {
  const known = new Set(model.services.map((s) => s.id));
  const changes = new Map<string, { skills: Skill[]; mode: WindowDef['skillMode'] }>();
  for (const part of spec.split(';').map((p) => p.trim()).filter(Boolean)) {
    const [lhs, rhs] = part.split('=');
    if (!lhs || !rhs) throw new Error(`--skills "${part}": expected WINDOWS=SERVICES, e.g. w13=medical-insurance`);
    const entries = rhs.split(',').map((s) => s.trim()).filter(Boolean);
    const weighted = entries.some((e) => e.includes('*'));
    const skills = entries.map((entry, i): Skill => {
      const [serviceId, weightText] = entry.split('*');
      if (!serviceId || !known.has(serviceId)) throw new Error(`--skills "${part}": unknown service "${serviceId ?? ''}" (known: ${[...known].join(', ')})`);
      const weight = weightText === undefined ? (weighted ? 1 : entries.length - i) : Number(weightText);
      if (!(weight > 0)) throw new Error(`--skills "${part}": bad weight "${weightText}"`);
      return { serviceId, weight };
    });
    for (const windowId of lhs.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!model.windows.some((w) => w.id === windowId)) throw new Error(`--skills "${part}": unknown window "${windowId}"`);
      changes.set(windowId, { skills, mode: weighted ? 'weighted' : 'preference' });
    }
  }
  return { ...model, windows: model.windows.map((w) => (changes.has(w.id) ? { ...w, skills: changes.get(w.id)!.skills, skillMode: changes.get(w.id)!.mode } : w)) };
}

/** "28..36" → [28 … 36]; "30" → [30]; "28,30,32" → those. */
export function parseWindowCounts(text: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (from < 1 || to < from || to - from > 200) throw new Error(`--windows "${text}": expected FROM..TO with 1 ≤ FROM ≤ TO and at most 200 steps`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 999)) throw new Error(`--windows "${text}": expected N, FROM..TO or N,M,...`);
  return list;
}
