import type { QueueModel } from '../queue/model.js';
import { summarise, worstP90, type VariantResult } from './results.js';
import { simulateDay, type SimDayResult } from './simulator.js';
import type { Staffing } from './staffing.js';
import type { Variant } from './variants.js';
import type { SimVisitor } from './visitor.js';

/** One day's visitors, the same for every variant (common random numbers). */
export interface SimDayPlan {
  date: string;
  visitors: ReadonlyArray<SimVisitor>;
  /** Staffing for a variant's model (its schedules, or a recorded day's shifts). */
  staffing: (model: QueueModel) => Staffing;
}

export interface SweepResult {
  variants: VariantResult[];
  /** The first day of each variant, in full (the hall's own statistics), for --json. */
  firstDays: SimDayResult[];
  target?: TargetAnswer;
  elapsedMs: number;
}

export interface TargetAnswer {
  p90Minutes: number;
  /** The fewest windows whose every service keeps p90 ≤ target; undefined when none does. */
  windows?: number;
  label?: string;
  /** The worst service p90 of each variant, for the explanation. */
  worst: Array<{ label: string; windows: number; serviceId: string; p90: number }>;
}

/**
 * Every variant over the same days. `deadline` (epoch ms, from the caller's clock) stops a sweep
 * that runs too long — the dashboard's request must not hold a worker forever; `now` is passed in
 * so this stays free of clock reads in tests.
 */
export function runSweep(input: {
  variants: ReadonlyArray<Variant>;
  days: ReadonlyArray<SimDayPlan>;
  targetP90Minutes?: number;
  now?: () => number;
  deadline?: number;
}): SweepResult {
  const now = input.now ?? (() => 0);
  const started = now();
  const variants: VariantResult[] = [];
  const firstDays: SimDayResult[] = [];
  for (const variant of input.variants) {
    const results = input.days.map((day) => {
      if (input.deadline !== undefined && now() > input.deadline) throw new SweepTimeout();
      return simulateDay({ model: variant.model, date: day.date, visitors: day.visitors, staffing: day.staffing(variant.model) });
    });
    firstDays.push(results[0]!);
    variants.push({ ...summarise(variant.label, variant.model, results), windows: variant.windows });
  }
  const result: SweepResult = { variants, firstDays, elapsedMs: now() - started };
  if (input.targetP90Minutes !== undefined) result.target = answerTarget(variants, input.targetP90Minutes);
  return result;
}

export function answerTarget(variants: ReadonlyArray<VariantResult>, p90Minutes: number): TargetAnswer {
  const worst = variants.map((v) => ({ label: v.label, windows: v.windows, ...worstP90(v) }));
  const meeting = worst.filter((w) => w.p90 <= p90Minutes).sort((a, b) => a.windows - b.windows);
  const best = meeting[0];
  return { p90Minutes, worst, ...(best ? { windows: best.windows, label: best.label } : {}) };
}

export class SweepTimeout extends Error {
  constructor() {
    super('the simulation ran past its time limit');
    this.name = 'SweepTimeout';
  }
}
