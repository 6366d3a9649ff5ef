import type { HallEvent } from '../queue/events.js';
import type { QueueModel } from '../queue/model.js';
import { parseArrivalsCsv } from './arrivals-csv.js';
import { configHandling, empiricalHandling, type HandlingDistribution, type HandlingModel } from './handling.js';
import { addDays, weekdayOf } from './local-time.js';
import { profileVisitors, type ProfileName } from './profiles.js';
import { Random } from './random.js';
import { historyFrom, recordedVisitors } from './recorded-day.js';
import { recordedStaffing, scheduledStaffing } from './staffing.js';
import type { SimDayPlan } from './sweep.js';
import { applySkills, parseWindowCounts, resizeWindows, type Variant } from './variants.js';
import { DEFAULT_BEHAVIOUR, type Behaviour } from './visitor.js';

/** Everything a what-if run needs, in plain data: what the CLI and the MQTT request both build. */
export interface SimRequest {
  /** Arrivals: exactly one of `profile` (with `tickets`), `arrivalsCsv` or `replay`. */
  tickets?: number;
  profile?: ProfileName;
  arrivalsCsv?: string;
  /** A recorded day's events (its arrivals, counter times, behaviour and staffing). */
  replay?: { day: string; events: ReadonlyArray<HallEvent> };
  /** Past days' events: handling times (empirical) and behaviour come from them when given. */
  history?: ReadonlyArray<ReadonlyArray<HallEvent>>;
  /** The business day simulated (default: the first open day on or after 2026-01-05; replay: its day). */
  date?: string;
  days?: number;
  seed?: number;
  handling?: 'config' | 'empirical';
  distribution?: HandlingDistribution;
  cv?: number;
  /** Window counts to try: "28..36", "30", "28,32". */
  windows?: string;
  /** Skills overrides, one variant each (see applySkills). */
  skills?: string[];
  /** Other halls (configs' models) to try on the same visitors. */
  alternatives?: Array<{ label: string; model: QueueModel }>;
  mix?: Record<string, number>;
  behaviour?: Partial<Behaviour>;
  priorityShare?: number;
  targetP90?: number;
}

export interface SimPlan {
  variants: Variant[];
  days: SimDayPlan[];
  handling: string;
  arrivals: string;
  behaviour: Behaviour;
}

export class SimRequestError extends Error {}

export const DEFAULT_DATE = '2026-01-05';
export const MAX_DAYS = 366;
export const MAX_TICKETS = 20_000;
export const MAX_VARIANTS = 200;

/** The first day on or after `from` that the hall opens. */
export function firstOpenDay(model: QueueModel, from: string): string {
  for (let i = 0; i < 7; i += 1) {
    const date = addDays(from, i);
    if (model.clock.openDays.includes(weekdayOf(date))) return date;
  }
  throw new SimRequestError('the hall opens on no day of the week');
}

/** Turns a request into the days and variants to run, checking every field. */
export function planSimulation(model: QueueModel, request: SimRequest): SimPlan {
  const sources = [request.profile !== undefined || request.tickets !== undefined, request.arrivalsCsv !== undefined, request.replay !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new SimRequestError('give exactly one source of arrivals: --tickets N --profile P, --arrivals FILE, or --replay-day D --journal FILE');
  const days = request.days ?? 1;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new SimRequestError(`days must be 1-${MAX_DAYS}, got ${days}`);
  if (request.replay && days !== 1) throw new SimRequestError('a replayed day is one day: leave out --days');
  const seed = request.seed ?? 1;
  if (!Number.isInteger(seed)) throw new SimRequestError(`seed must be a whole number, got ${seed}`);
  const date = request.replay?.day ?? firstOpenDay(model, request.date ?? DEFAULT_DATE);
  if (request.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(request.date)) throw new SimRequestError(`date must be YYYY-MM-DD, got "${request.date}"`);
  if (!request.replay && !model.clock.openDays.includes(weekdayOf(date))) throw new SimRequestError(`the hall does not open on ${date}`);

  const history = request.history && request.history.length > 0 ? historyFrom(request.history) : undefined;
  const behaviour: Behaviour = { ...(history?.behaviour ?? DEFAULT_BEHAVIOUR), ...request.behaviour };
  const base = configHandling(model.services, request.distribution ?? 'lognormal', request.cv ?? 0.5);
  const wantsEmpirical = (request.handling ?? (history ? 'empirical' : 'config')) === 'empirical';
  if (wantsEmpirical && !history) throw new SimRequestError('empirical handling times need the journal\'s history (--journal FILE)');
  const handling: HandlingModel = wantsEmpirical && history ? empiricalHandling(history.handling, base, history.days) : base;

  const planDay = (index: number): SimDayPlan => {
    const daySeed = seed + index * 7919;
    const dayDate = index === 0 ? date : nthOpenDay(model, date, index);
    if (request.replay) {
      const events = request.replay.events;
      const visitors = recordedVisitors(model, events, handling, new Random(daySeed).stream('unserved'));
      const recorded = recordedStaffing(model, events);
      return {
        date: dayDate,
        visitors,
        // Windows the recording has shifts for keep them; windows a variant adds follow the config's schedule.
        staffing: (m) => {
          const planned = scheduledStaffing(m, dayDate);
          for (const w of m.windows) if (recorded.has(w.id)) planned.set(w.id, recorded.get(w.id)!);
          return planned;
        },
      };
    }
    const visitors = request.arrivalsCsv !== undefined
      ? parseArrivalsCsv(request.arrivalsCsv, { model, date: dayDate, seed: daySeed, handling, behaviour })
      : profileVisitors({ model, date: dayDate, tickets: checkTickets(request.tickets), profile: request.profile ?? 'flat', seed: daySeed, handling, behaviour, ...(request.mix ? { mix: checkMix(model, request.mix) } : {}), ...(request.priorityShare !== undefined ? { priorityShare: request.priorityShare } : {}) });
    return { date: dayDate, visitors, staffing: (m) => scheduledStaffing(m, dayDate) };
  };

  // A replay's staff did not follow the schedule to the minute: do not refuse their calls.
  const baseModel: QueueModel = request.replay ? { ...model, policy: { ...model.policy, enforceWindowSchedule: false } } : model;
  const skillModels: Array<{ suffix: string; model: QueueModel }> = [{ suffix: '', model: baseModel }];
  (request.skills ?? []).forEach((spec, i) => {
    try {
      skillModels.push({ suffix: ` + skills ${i + 1}`, model: applySkills(baseModel, spec) });
    } catch (err) {
      throw new SimRequestError((err as Error).message);
    }
  });
  const variants: Variant[] = [];
  let counts: number[] | undefined;
  try {
    counts = request.windows !== undefined ? parseWindowCounts(request.windows) : undefined;
    for (const { suffix, model: m } of skillModels) {
      if (!counts) variants.push({ label: suffix ? `config${suffix}` : 'config', windows: m.windows.length, model: m });
      else for (const n of counts) variants.push({ label: `${n} windows${suffix}`, windows: n, model: resizeWindows(m, n) });
    }
  } catch (err) {
    throw new SimRequestError((err as Error).message);
  }
  for (const alt of request.alternatives ?? []) variants.push({ label: alt.label, windows: alt.model.windows.length, model: alt.model });
  if (variants.length > MAX_VARIANTS) throw new SimRequestError(`at most ${MAX_VARIANTS} variants, asked for ${variants.length}`);
  if (request.targetP90 !== undefined && !(request.targetP90 > 0)) throw new SimRequestError(`target p90 must be a positive number of minutes, got ${request.targetP90}`);

  const arrivals = request.replay
    ? `recorded day ${request.replay.day} (its own arrivals, counter times, behaviour and staffing)`
    : request.arrivalsCsv !== undefined
      ? 'arrivals from CSV'
      : `${request.tickets} tickets, profile ${request.profile ?? 'flat'}, seed ${seed}`;
  return { variants, days: Array.from({ length: days }, (_, i) => planDay(i)), handling: request.replay ? 'recorded per ticket' : handling.describe(), arrivals, behaviour };
}

function nthOpenDay(model: QueueModel, from: string, n: number): string {
  let date = from;
  for (let k = 0; k < n; k += 1) date = firstOpenDay(model, addDays(date, 1));
  return date;
}

function checkTickets(tickets: number | undefined): number {
  if (tickets === undefined || !Number.isInteger(tickets) || tickets < 1 || tickets > MAX_TICKETS) throw new SimRequestError(`tickets must be 1-${MAX_TICKETS}, got ${tickets}`);
  return tickets;
}

function checkMix(model: QueueModel, mix: Record<string, number>): Map<string, number> {
  const known = new Set(model.services.map((s) => s.id));
  for (const [id, w] of Object.entries(mix)) {
    if (!known.has(id)) throw new SimRequestError(`mix: unknown service "${id}"`);
    if (!(w >= 0)) throw new SimRequestError(`mix: weight of ${id} must be ≥ 0`);
  }
  return new Map(Object.entries(mix));
}
