import type { HallEvent } from './events.js';
import type { QueueModel } from './model.js';
import { QuarterSeries, type QuarterFigures } from './stats-quarters.js';
import { DurationSample, OffsetSample, type Summary } from './stats-summary.js';

export type { Summary } from './stats-summary.js';
export type { QuarterFigures } from './stats-quarters.js';

export type RatingKey = '1' | '2' | '3' | '4' | '5';

/** The figures of one group (the whole hall, a service, a window or a staff member) for a day. */
export interface Figures {
  issued: number;
  /** Tickets finished. */
  served: number;
  /** Matters (items) on the finished tickets: a ticket with no item list is one matter (取一次号、办一批事). */
  itemsServed: number;
  /** Skips (过号); a ticket skipped twice counts twice. */
  noShows: number;
  requeued: number;
  transfersIn: number;
  transfersOut: number;
  voided: number;
  expired: number;
  recalls: number;
  /**
   * Tickets not final yet (waiting, called, at the counter or skipped), by their current service.
   * Only meaningful for the total and per service; 0 for windows and staff.
   */
  open: number;
  /** First call − issue, seconds. */
  waiting: Summary;
  /**
   * Waits after the first call, seconds: from a transfer (the ticket back in a line or sent to a
   * window) or a put-back (过号 then back in line) to the next call. Counted where that call is.
   */
  secondWaits: { afterTransfer: Summary; afterRequeue: Summary };
  /**
   * Finish − start (or − last call when the ticket was never started), seconds. For the hall and
   * a service, one figure per finished ticket: its time at every counter, a part served before a
   * transfer included. For a window or a staff member, each part served there is one figure.
   */
  handling: Summary;
  /**
   * Appointment punctuality: first call − slot start, seconds (negative = called before the
   * slot), and how many were called within the tolerance (DayStats.appointmentOnTimeMinutes).
   */
  appointments: { called: number; meanLateSeconds: number; p90LateSeconds: number; onTime: number; onTimeRate: number };
  ratings: {
    rated: number;
    timedOut: number;
    split: Record<RatingKey, number>;
    /** Share of served tickets that got a rating, 0..1. */
    rate: number;
    /** Share of the ratings that are 4 or 5 (满意, 非常满意), 0..1. */
    satisfaction: number;
  };
}

/** A rating of 1 or 2, for the same-day follow-up the halls promise. */
export interface PoorRating {
  number: string;
  serviceId: string;
  windowId: string;
  staffId?: string;
  /** Epoch ms of the rating. */
  at: number;
  rating: 1 | 2;
}

/** Tolerance for an appointment called after its slot started, when the policy does not say. */
export const DEFAULT_APPOINTMENT_ON_TIME_MINUTES = 5;

export interface DayStats {
  day: string;
  /** Epoch ms the snapshot was taken at. */
  generatedAt: number;
  total: Figures;
  byService: Record<string, Figures>;
  byWindow: Record<string, Figures>;
  byStaff: Record<string, Figures>;
  /** Arrivals and tickets served per local quarter hour, gaps filled, in time order. */
  perQuarter: QuarterFigures[];
  gate: { entries: number; refusals: Record<string, number> };
  /** The day's ratings of 1–2, in time order. (Absent in statistics stored before it was added.) */
  poorRatings: PoorRating[];
  /** The tolerance behind `appointments.onTime`. */
  appointmentOnTimeMinutes: number;
}

/** Below this many finished tickets today, a service's wait estimate uses its configured average. */
export const MIN_FINISHED_FOR_DAY_MEAN = 5;

/**
 * Minutes a new ticket of a service can expect to wait: tickets ahead × handling time ÷ windows
 * serving the service (at least 1). Rounded up: promising too little is worse than too much.
 */
export function estimateWaitMinutes(input: {
  ahead: number;
  /** The day's mean handling time for the service; pass it only once MIN_FINISHED_FOR_DAY_MEAN are finished. */
  meanHandlingSeconds?: number;
  defaultHandlingMinutes: number;
  /** Staffed, unpaused windows that take the service. */
  activeWindows: number;
}): number {
  const ahead = Number.isFinite(input.ahead) && input.ahead > 0 ? input.ahead : 0;
  if (ahead === 0) return 0;
  const mean = input.meanHandlingSeconds;
  const handlingMinutes = mean !== undefined && Number.isFinite(mean) && mean > 0 ? mean / 60 : Math.max(0, input.defaultHandlingMinutes || 0);
  const windows = Number.isFinite(input.activeWindows) && input.activeWindows >= 1 ? Math.floor(input.activeWindows) : 1;
  return Math.ceil((ahead * handlingMinutes) / windows);
}

/** Counters of one group while the day runs; turned into Figures by `figures()`. */
class Tally {
  issued = 0;
  served = 0;
  itemsServed = 0;
  noShows = 0;
  requeued = 0;
  transfersIn = 0;
  transfersOut = 0;
  voided = 0;
  expired = 0;
  recalls = 0;
  open = 0;
  rated = 0;
  timedOut = 0;
  readonly split: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  readonly waiting = new DurationSample();
  readonly afterTransfer = new DurationSample();
  readonly afterRequeue = new DurationSample();
  readonly handling = new DurationSample();
  readonly punctuality: OffsetSample;

  constructor(onTimeMs: number) {
    this.punctuality = new OffsetSample(onTimeMs);
  }

  figures(): Figures {
    const [one, two, three, four, five] = this.split;
    const punctuality = this.punctuality.summary();
    const rated = one + two + three + four + five;
    return {
      issued: this.issued,
      served: this.served,
      itemsServed: this.itemsServed,
      noShows: this.noShows,
      requeued: this.requeued,
      transfersIn: this.transfersIn,
      transfersOut: this.transfersOut,
      voided: this.voided,
      expired: this.expired,
      recalls: this.recalls,
      open: this.open,
      waiting: this.waiting.summary(),
      secondWaits: { afterTransfer: this.afterTransfer.summary(), afterRequeue: this.afterRequeue.summary() },
      handling: this.handling.summary(),
      appointments: {
        called: punctuality.count,
        meanLateSeconds: punctuality.meanSeconds,
        p90LateSeconds: punctuality.p90Seconds,
        onTime: punctuality.onTime,
        onTimeRate: punctuality.onTimeRate,
      },
      ratings: {
        rated: this.rated,
        timedOut: this.timedOut,
        split: { '1': one, '2': two, '3': three, '4': four, '5': five },
        rate: this.served === 0 ? 0 : Math.min(1, this.rated / this.served),
        satisfaction: rated === 0 ? 0 : Math.round(((four + five) / rated) * 10000) / 10000,
      },
    };
  }
}

/** What the accumulator remembers of each ticket to attribute later events. */
interface TicketTrack {
  serviceId: string;
  issuedAt: number;
  items: number;
  slotStart?: number;
  /** Set by a transfer or a put-back: the next call ends a second wait begun here. */
  secondWaitFrom?: { at: number; kind: 'transfer' | 'requeue' };
  /** Counter time before a transfer, ms: part of the ticket's handling when it is finished. */
  servedBeforeMs: number;
  firstCalledAt?: number;
  lastCalledAt?: number;
  startedAt?: number;
  staffId?: string;
  final: boolean;
  done: boolean;
  rated: boolean;
}

/**
 * The day's statistics, kept up to date event by event (O(1) per event, except the occasional
 * new group). Pure: no clock reads, no I/O — replaying the journal gives the same figures.
 * Events for tickets it never saw issued (a rating for yesterday's ticket, say) are ignored and
 * counted in `ignored`.
 */
export class StatsAccumulator {
  private day: string | undefined;
  private readonly total: Tally;
  private readonly services = new Map<string, Tally>();
  private readonly windows = new Map<string, Tally>();
  private readonly staff = new Map<string, Tally>();
  private readonly tickets = new Map<string, TicketTrack>();
  private readonly quarters: QuarterSeries;
  private gateEntries = 0;
  private readonly refusals = new Map<string, number>();
  private readonly poorRatings: PoorRating[] = [];
  private readonly onTimeMinutes: number;
  private readonly onTimeMs: number;
  /** Events that referred to an unknown ticket or arrived in an impossible state. */
  ignored = 0;

  constructor(model: QueueModel) {
    this.quarters = new QuarterSeries(model.clock.timeZone);
    this.onTimeMinutes = model.policy.appointmentOnTimeMinutes ?? DEFAULT_APPOINTMENT_ON_TIME_MINUTES;
    this.onTimeMs = this.onTimeMinutes * 60_000;
    this.total = new Tally(this.onTimeMs);
    // Configured services and windows appear even on a day they saw nothing.
    for (const service of model.services) this.services.set(service.id, new Tally(this.onTimeMs));
    for (const window of model.windows) this.windows.set(window.id, new Tally(this.onTimeMs));
  }

  apply(e: HallEvent): void {
    this.day ??= e.day;
    switch (e.type) {
      case 'ticket.issued': {
        const ticket = e.ticket;
        if (this.tickets.has(ticket.number)) return this.ignore();
        this.tickets.set(ticket.number, {
          serviceId: ticket.serviceId,
          issuedAt: ticket.issuedAt,
          items: Math.max(1, ticket.items?.length ?? 0),
          ...(ticket.appointment ? { slotStart: ticket.appointment.slotStart } : {}),
          servedBeforeMs: 0,
          final: false,
          done: false,
          rated: false,
        });
        for (const tally of [this.total, this.service(ticket.serviceId)]) {
          tally.issued += 1;
          tally.open += 1;
        }
        this.quarters.issued(ticket.issuedAt);
        return;
      }
      case 'ticket.called': {
        const t = this.openTicket(e.number);
        if (!t) return;
        const groups = [this.total, this.service(t.serviceId), this.window(e.windowId), this.staffTally(e.staffId)];
        if (t.firstCalledAt === undefined) {
          t.firstCalledAt = e.at;
          const ms = e.at - t.issuedAt;
          for (const tally of groups) tally?.waiting.addMs(ms);
          this.quarters.waited(t.issuedAt, ms);
          if (t.slotStart !== undefined) for (const tally of groups) tally?.punctuality.addMs(e.at - t.slotStart);
        } else if (t.secondWaitFrom) {
          const ms = e.at - t.secondWaitFrom.at;
          for (const tally of groups) (t.secondWaitFrom.kind === 'transfer' ? tally?.afterTransfer : tally?.afterRequeue)?.addMs(ms);
        }
        t.secondWaitFrom = undefined;
        t.lastCalledAt = e.at;
        t.startedAt = undefined;
        t.staffId = e.staffId;
        return;
      }
      case 'ticket.recalled': {
        const t = this.openTicket(e.number);
        if (!t) return;
        for (const tally of [this.total, this.service(t.serviceId), this.window(e.windowId), this.staffTally(t.staffId)]) {
          if (tally) tally.recalls += 1;
        }
        return;
      }
      case 'ticket.skipped': {
        const t = this.openTicket(e.number);
        if (!t) return;
        for (const tally of [this.total, this.service(t.serviceId), this.window(e.windowId), this.staffTally(t.staffId)]) {
          if (tally) tally.noShows += 1;
        }
        return;
      }
      case 'ticket.requeued': {
        const t = this.openTicket(e.number);
        if (!t) return;
        this.total.requeued += 1;
        this.service(t.serviceId).requeued += 1;
        t.secondWaitFrom = { at: e.at, kind: 'requeue' };
        return;
      }
      case 'ticket.transferred':
        return this.transferred(e);
      case 'ticket.started': {
        const t = this.openTicket(e.number);
        if (!t) return;
        t.startedAt = e.at;
        return;
      }
      case 'ticket.finished': {
        const t = this.openTicket(e.number);
        if (!t) return;
        const since = t.startedAt ?? t.lastCalledAt;
        const staffId = e.staffId ?? t.staffId;
        t.staffId = staffId;
        this.close(t, true);
        // This counter's part goes to the window and staff; the whole visit to the hall and service.
        const part = since !== undefined ? Math.max(0, e.at - since) : undefined;
        const whole = part !== undefined || t.servedBeforeMs > 0 ? (part ?? 0) + t.servedBeforeMs : undefined;
        for (const tally of [this.window(e.windowId), this.staffTally(staffId)]) {
          if (!tally) continue;
          tally.served += 1;
          tally.itemsServed += t.items;
          if (part !== undefined) tally.handling.addMs(part);
        }
        for (const tally of [this.total, this.service(t.serviceId)]) {
          tally.served += 1;
          tally.itemsServed += t.items;
          if (whole !== undefined) tally.handling.addMs(whole);
        }
        this.quarters.served(e.at);
        return;
      }
      case 'ticket.voided':
      case 'ticket.expired': {
        const t = this.openTicket(e.number);
        if (!t) return;
        this.close(t, false);
        for (const tally of [this.total, this.service(t.serviceId)]) {
          if (e.type === 'ticket.voided') tally.voided += 1;
          else tally.expired += 1;
        }
        return;
      }
      case 'ticket.rated':
        return this.rated(e);
      case 'day.started':
      case 'day.closed':
      case 'window.opened':
      case 'window.closed':
      case 'window.paused':
      case 'window.resumed':
        return;
      default:
        if (e.type === 'device.gate.decision') this.gateDecision(e.data);
    }
  }

  /** The day's figures as of `at` (epoch ms, only stamped on the result). */
  snapshot(at: number): DayStats {
    return {
      day: this.day ?? '',
      generatedAt: at,
      total: this.total.figures(),
      byService: mapFigures(this.services),
      byWindow: mapFigures(this.windows),
      byStaff: mapFigures(this.staff),
      perQuarter: this.quarters.snapshot(),
      gate: { entries: this.gateEntries, refusals: Object.fromEntries(this.refusals) },
      poorRatings: this.poorRatings.map((r) => ({ ...r })),
      appointmentOnTimeMinutes: this.onTimeMinutes,
    };
  }

  /**
   * A service's handling time so far today, in O(1): what the wait estimate needs, without the
   * cost of a full snapshot.
   */
  handling(serviceId: string): { count: number; meanSeconds: number } {
    const tally = this.services.get(serviceId);
    return tally ? { count: tally.handling.count, meanSeconds: tally.handling.mean } : { count: 0, meanSeconds: 0 };
  }

  private transferred(e: Extract<HallEvent, { type: 'ticket.transferred' }>): void {
    const t = this.openTicket(e.number);
    if (!t) return;
    this.total.transfersOut += 1;
    this.total.transfersIn += 1;
    const from = t.serviceId;
    if (e.toServiceId !== from) {
      const fromTally = this.service(from);
      const toTally = this.service(e.toServiceId);
      fromTally.transfersOut += 1;
      fromTally.open -= 1;
      toTally.transfersIn += 1;
      toTally.open += 1;
      t.serviceId = e.toServiceId;
    }
    if (e.fromWindowId) {
      const fromWindow = this.window(e.fromWindowId);
      fromWindow.transfersOut += 1;
      const staff = this.staffTally(t.staffId);
      if (staff) staff.transfersOut += 1;
      // The time served at this counter before the transfer is this window's work, and part of
      // the ticket's handling when it is finished elsewhere.
      const since = t.startedAt ?? t.lastCalledAt;
      if (since !== undefined) {
        const part = Math.max(0, e.at - since);
        t.servedBeforeMs += part;
        fromWindow.handling.addMs(part);
        staff?.handling.addMs(part);
      }
    }
    if (e.toWindowId) this.window(e.toWindowId).transfersIn += 1;
    t.startedAt = undefined;
    t.lastCalledAt = undefined;
    t.secondWaitFrom = { at: e.at, kind: 'transfer' };
  }

  private rated(e: Extract<HallEvent, { type: 'ticket.rated' }>): void {
    const t = this.tickets.get(e.number);
    const rating = e.rating;
    const valid = e.timedOut || rating === undefined || (Number.isInteger(rating) && rating >= 1 && rating <= 5);
    if (!t || !t.done || t.rated || !valid) return this.ignore();
    t.rated = true;
    for (const tally of [this.total, this.service(t.serviceId), this.window(e.windowId), this.staffTally(e.staffId ?? t.staffId)]) {
      if (!tally) continue;
      if (e.timedOut || rating === undefined) tally.timedOut += 1;
      else {
        tally.rated += 1;
        tally.split[rating - 1]! += 1;
      }
    }
    if (!e.timedOut && (rating === 1 || rating === 2)) {
      const staffId = e.staffId ?? t.staffId;
      this.poorRatings.push({ number: e.number, serviceId: t.serviceId, windowId: e.windowId, ...(staffId ? { staffId } : {}), at: e.at, rating });
    }
  }

  private gateDecision(data: Record<string, unknown>): void {
    if (data.decision === 'pass') this.gateEntries += 1;
    else if (data.decision === 'refuse') {
      const reason = typeof data.reason === 'string' && data.reason.length > 0 ? data.reason : 'unspecified';
      this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    } else this.ignore();
  }

  /** A ticket that is known and not final yet; otherwise the event is ignored. */
  private openTicket(number: string): TicketTrack | undefined {
    const t = this.tickets.get(number);
    if (!t || t.final) {
      this.ignore();
      return undefined;
    }
    return t;
  }

  private close(t: TicketTrack, done: boolean): void {
    t.final = true;
    t.done = done;
    this.total.open -= 1;
    this.service(t.serviceId).open -= 1;
  }

  private ignore(): void {
    this.ignored += 1;
  }

  private service(id: string): Tally {
    return tallyIn(this.services, id, this.onTimeMs);
  }

  private window(id: string): Tally {
    return tallyIn(this.windows, id, this.onTimeMs);
  }

  private staffTally(id: string | undefined): Tally | undefined {
    return id ? tallyIn(this.staff, id, this.onTimeMs) : undefined;
  }
}

/** A day's statistics from its events (a past day read back from the journal, say). */
export function computeDayStats(model: QueueModel, events: Iterable<HallEvent>): DayStats {
  const accumulator = new StatsAccumulator(model);
  let last = 0;
  for (const event of events) {
    accumulator.apply(event);
    last = Math.max(last, event.at);
  }
  return accumulator.snapshot(last);
}

function tallyIn(map: Map<string, Tally>, id: string, onTimeMs: number): Tally {
  let tally = map.get(id);
  if (!tally) {
    tally = new Tally(onTimeMs);
    map.set(id, tally);
  }
  return tally;
}

function mapFigures(map: Map<string, Tally>): Record<string, Figures> {
  const out: Record<string, Figures> = {};
  for (const [id, tally] of map) out[id] = tally.figures();
  return out;
}
