import type { ServiceDef } from '../queue/model.js';
import type { Random } from './random.js';

/** Where handling times come from, and how they are spread around the mean. */
export type HandlingDistribution = 'exponential' | 'lognormal' | 'fixed';

export interface HandlingModel {
  /** One ticket's time at the counter, ms. */
  sample(serviceId: string, random: Random): number;
  /** For the report: how the times were made. */
  describe(): string;
}

/** Below this many recorded times a service falls back to its configured average. */
export const MIN_EMPIRICAL_SAMPLES = 20;

/**
 * The config's `averageHandlingMinutes` per service, spread by a stated distribution:
 * exponential (the M/M/c textbook case, cv 1), log-normal with a coefficient of variation (the
 * usual shape of real counter times: never negative, a long right tail), or fixed.
 */
export function configHandling(services: ReadonlyArray<ServiceDef>, distribution: HandlingDistribution, cv = 0.5): HandlingModel {
  const means = new Map(services.map((s) => [s.id, s.averageHandlingMinutes * 60_000]));
  return {
    sample(serviceId, random) {
      const mean = means.get(serviceId) ?? 8 * 60_000;
      if (distribution === 'fixed') return Math.round(mean);
      if (distribution === 'exponential') return Math.max(1, Math.round(random.exponential(mean)));
      return Math.max(1, Math.round(random.logNormal(mean, cv)));
    },
    describe() {
      const spread = distribution === 'lognormal' ? `log-normal, cv ${cv}` : distribution;
      return `config averageHandlingMinutes per service, ${spread}`;
    },
  };
}

/**
 * Handling times drawn from the hall's own history (the recorded times of each service, each
 * equally likely: the empirical distribution). A service with too few records uses `fallback`.
 */
export function empiricalHandling(samples: ReadonlyMap<string, ReadonlyArray<number>>, fallback: HandlingModel, days: number): HandlingModel {
  const usable = new Map<string, ReadonlyArray<number>>();
  for (const [serviceId, values] of samples) if (values.length >= MIN_EMPIRICAL_SAMPLES) usable.set(serviceId, values);
  return {
    sample(serviceId, random) {
      const values = usable.get(serviceId);
      if (!values) return fallback.sample(serviceId, random);
      return values[Math.floor(random.next() * values.length)]!;
    },
    describe() {
      const counts = [...usable].map(([id, v]) => `${id} ${v.length}`).join(', ');
      return `empirical from the journal's last ${days} day(s) (${counts || 'no service had enough'}); others: ${fallback.describe()}`;
    },
  };
}
