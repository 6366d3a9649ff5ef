import type { QueueModel } from '../queue/model.js';
import type { HandlingModel } from './handling.js';
import { localToEpoch } from './local-time.js';
import { Random } from './random.js';
import { RECALL_AFTER_MS, type Behaviour, type SimVisitor } from './visitor.js';

export const PROFILES = ['flat', 'morning-peak', 'policy-day'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** Relative arrival intensity over the opening hours: [minutes after opening, weight per minute]. */
type Shape = Array<[number, number]>;

/**
 * The day's shape. morning-peak: busy mornings (the usual hall day), a lunch dip, a calmer
 * afternoon. policy-day: the same, plus a crowd at the doors at opening — about a tenth of the
 * day's tickets in the first 15 minutes, as on the day three new policies landed at once.
 */
function shape(profile: ProfileName, openMinutes: number): Shape {
  if (profile === 'flat') return [[0, 1]];
  const peak: Shape = [
    [0, 1.6],
    [150, 1.2], // 11:00 on a 08:30 hall
    [210, 0.3], // lunch
    [300, 1.0],
    [Math.max(301, openMinutes - 60), 0.6], // the last hour
  ];
  if (profile === 'morning-peak') return peak;
  // About a tenth of the day in the first 15 minutes (weight 6 over 15 min against ~1 over the rest).
  const rest = peak.map(([at, w]): [number, number] => [at === 0 ? 15 : at, w]);
  return [[0, 6], ...rest];
}

/** Minutes after opening, drawn from the piecewise-constant shape (inverse of its CDF). */
function sampler(profile: ProfileName, openMinutes: number): (u: number) => number {
  const steps = shape(profile, openMinutes).filter(([at]) => at < openMinutes);
  const pieces = steps.map(([from, weight], i) => {
    const to = i + 1 < steps.length ? steps[i + 1]![0] : openMinutes;
    return { from, to, mass: (to - from) * weight };
  });
  const total = pieces.reduce((sum, p) => sum + p.mass, 0);
  return (u) => {
    let r = u * total;
    for (const p of pieces) {
      if (r < p.mass) return p.from + (r / p.mass) * (p.to - p.from);
      r -= p.mass;
    }
    return openMinutes - 1e-6;
  };
}

/**
 * Demand per service when none is given: the hall staffed itself for its demand, so each
 * service's share is the number of windows that take it first (half a window for a service no
 * window takes first).
 */
export function defaultMix(model: QueueModel): Map<string, number> {
  const mix = new Map<string, number>(model.services.map((s) => [s.id, 0]));
  for (const w of model.windows) {
    const first = w.skills[0]?.serviceId;
    if (first !== undefined && mix.has(first)) mix.set(first, mix.get(first)! + 1);
  }
  for (const [id, n] of mix) if (n === 0) mix.set(id, 0.5);
  return mix;
}

/** The Nov→Dec medical-insurance surge of the source articles: +140 %. */
export const POLICY_DAY_SURGE: Record<string, number> = { 'medical-insurance': 2.4 };

export interface ProfileOptions {
  model: QueueModel;
  /** The business day, YYYY-MM-DD. */
  date: string;
  tickets: number;
  profile: ProfileName;
  seed: number;
  handling: HandlingModel;
  behaviour: Behaviour;
  /** Weight per service id; default `defaultMix`, times the policy-day surge on a policy day. */
  mix?: ReadonlyMap<string, number>;
  /**
   * Share of other tickets that are priority (elderly, disabled ...). Tickets of a service only
   * priority windows take (the demo's 优先服务 lane) are always priority. Default 0.03, or 0 when
   * the hall has such a lane (the lane's share of the mix is its demand).
   */
  priorityShare?: number;
  /** Share of tickets with 2 and with 3 matters: 1,379 finished tickets held 1,535 matters. */
  multiItemShares?: [number, number];
}

/** A seeded day of `tickets` visitors arriving over the opening hours in the profile's shape. */
export function profileVisitors(options: ProfileOptions): SimVisitor[] {
  const { model, date, tickets, profile } = options;
  const root = new Random(options.seed);
  const times = root.stream('arrival-times');
  const kinds = root.stream('services');
  const handlingRandom = root.stream('handling');
  const people = root.stream('behaviour');
  const { open, close, timeZone } = model.clock;
  const openMinutes = Math.max(1, close - open);
  const opening = localToEpoch(date, open, timeZone);
  const draw = sampler(profile, openMinutes);
  const arrivals: number[] = [];
  for (let i = 0; i < tickets; i += 1) arrivals.push(opening + Math.floor(draw(times.next()) * 60_000));
  arrivals.sort((a, b) => a - b);

  let mix = options.mix ? new Map(options.mix) : defaultMix(model);
  if (!options.mix && profile === 'policy-day') {
    mix = new Map([...mix].map(([id, w]) => [id, w * (POLICY_DAY_SURGE[id] ?? 1)]));
  }
  const serviceIds = [...mix.keys()];
  const weights = serviceIds.map((id) => mix.get(id)!);
  const laneOnly = new Set(
    model.services
      .filter((s) => {
        const takers = model.windows.filter((w) => w.skills.some((k) => k.serviceId === s.id));
        return takers.length > 0 && takers.every((w) => w.priorityWindow);
      })
      .map((s) => s.id),
  );
  const priorityShare = options.priorityShare ?? (laneOnly.size > 0 ? 0 : 0.03);
  const [two, three] = options.multiItemShares ?? [0.08, 0.02];
  return arrivals.map((arriveAt) => {
    const serviceId = serviceIds[kinds.pick(weights)]!;
    const u = kinds.next();
    const items = u < three ? 3 : u < three + two ? 2 : 1;
    const priority = kinds.next() < priorityShare || laneOnly.has(serviceId);
    return { arriveAt, serviceId, priority, channel: 'kiosk' as const, items, handlingMs: options.handling.sample(serviceId, handlingRandom), ...drawBehaviour(people, options.behaviour) };
  });
}

/** What a visitor does at calls and at the pad; always the same number of draws per visitor. */
export function drawBehaviour(random: Random, b: Behaviour): Pick<SimVisitor, 'walkMs' | 'missedCalls' | 'returnsAfterMs' | 'rating'> {
  const [noShow, recall1, recall2, recall3, returns, returnAfter, rated, rating, walk] = Array.from({ length: 9 }, () => random.next()) as number[] as [
    number, number, number, number, number, number, number, number, number,
  ];
  let missedCalls = 0;
  if (noShow! < b.noShowShare) {
    missedCalls = 1;
    for (const u of [recall1, recall2, recall3]) {
      if (u! < b.recallAnswerShare) break;
      missedCalls += 1;
    }
  }
  const [minReturn, maxReturn] = b.returnAfterMinutes;
  const visitor: Pick<SimVisitor, 'walkMs' | 'missedCalls' | 'returnsAfterMs' | 'rating'> = {
    walkMs: Math.round((b.walkSeconds[0] + walk! * (b.walkSeconds[1] - b.walkSeconds[0])) * 1000),
    missedCalls,
  };
  if (missedCalls > 0 && returns! < b.returnShare) visitor.returnsAfterMs = Math.round((minReturn + returnAfter! * (maxReturn - minReturn)) * 60_000) + RECALL_AFTER_MS;
  if (rated! < b.ratedShare) {
    let r = rating! * b.ratingSplit.reduce((a, c) => a + c, 0);
    let level = 5;
    for (let i = 0; i < 5; i += 1) {
      if (r < b.ratingSplit[i]!) {
        level = i + 1;
        break;
      }
      r -= b.ratingSplit[i]!;
    }
    visitor.rating = level as 1 | 2 | 3 | 4 | 5;
  } else visitor.rating = 'timeout';
  return visitor;
}
