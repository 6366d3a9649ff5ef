import type { HallEvent, RatingValue } from '../queue/events.js';
import type { QueueModel } from '../queue/model.js';
import type { Ticket } from '../queue/ticket.js';
import type { HandlingModel } from './handling.js';
import type { Random } from './random.js';
import { DEFAULT_BEHAVIOUR, type Behaviour, type SimVisitor } from './visitor.js';

interface Track {
  ticket: Ticket;
  serviceAtFinish?: string;
  lastCallAt?: number;
  startedAt?: number;
  servedMs: number;
  recallsAtStart?: number;
  recallsNow: number;
  skippedAt?: number;
  requeuedAt?: number;
  finishedAt?: number;
  voidedAt?: number;
  rating?: RatingValue | 'timeout';
  called: boolean;
}

function track(events: Iterable<HallEvent>): Map<string, Track> {
  const tracks = new Map<string, Track>();
  for (const e of events) {
    if (e.type === 'ticket.issued') {
      tracks.set(e.ticket.number, { ticket: e.ticket, servedMs: 0, recallsNow: 0, called: false });
      continue;
    }
    if (!('number' in e) || typeof e.number !== 'string') continue;
    const t = tracks.get(e.number);
    if (!t) continue;
    switch (e.type) {
      case 'ticket.called':
        t.called = true;
        t.lastCallAt = e.at;
        t.startedAt = undefined;
        t.recallsNow = 0;
        break;
      case 'ticket.recalled':
        t.lastCallAt = e.at;
        t.recallsNow = e.recalls;
        break;
      case 'ticket.started':
        t.startedAt = e.at;
        t.recallsAtStart ??= t.recallsNow;
        break;
      case 'ticket.skipped':
        t.skippedAt ??= e.at;
        break;
      case 'ticket.requeued':
        if (t.skippedAt !== undefined) t.requeuedAt ??= e.at;
        break;
      case 'ticket.transferred':
        // Serving before a transfer is part of the ticket's time at counters.
        if (t.startedAt !== undefined) t.servedMs += e.at - t.startedAt;
        t.startedAt = undefined;
        break;
      case 'ticket.finished':
        t.servedMs += e.at - (t.startedAt ?? t.lastCallAt ?? e.at);
        t.finishedAt = e.at;
        break;
      case 'ticket.voided':
        t.voidedAt = e.at;
        break;
      case 'ticket.rated':
        t.rating = e.rating ?? 'timeout';
        break;
      default:
        break;
    }
  }
  return tracks;
}

/**
 * A recorded day's visitors, as they really were: arrival, service, priority, matters,
 * appointment, the time each spent at counters (summed across a transfer: the simulated hall does
 * not transfer), whether they missed calls, came back, were voided, and how they rated. A ticket
 * that never reached a counter gets a handling time from `fallback` (it matters only if a variant
 * serves it).
 */
export function recordedVisitors(model: QueueModel, events: ReadonlyArray<HallEvent>, fallback: HandlingModel, random: Random): SimVisitor[] {
  const limit = model.policy.recallLimit;
  const visitors: SimVisitor[] = [];
  for (const t of track(events).values()) {
    const ticket = t.ticket;
    const answered = t.finishedAt !== undefined;
    const v: SimVisitor = {
      arriveAt: ticket.issuedAt,
      serviceId: ticket.issuedServiceId,
      priority: ticket.priority,
      channel: ticket.channel,
      items: Math.max(1, ticket.items.length),
      walkMs: answered && t.startedAt !== undefined && t.lastCallAt !== undefined ? Math.max(0, t.startedAt - t.lastCallAt) : 0,
      handlingMs: answered ? Math.max(1, t.servedMs) : fallback.sample(ticket.issuedServiceId, random),
      missedCalls: t.skippedAt !== undefined ? limit + 1 : (t.recallsAtStart ?? 0),
    };
    if (ticket.appointment) v.appointment = { slotStart: ticket.appointment.slotStart, slotEnd: ticket.appointment.slotEnd };
    if (t.skippedAt !== undefined && t.requeuedAt !== undefined) v.returnsAfterMs = t.requeuedAt - t.skippedAt;
    if (t.voidedAt !== undefined) v.voidAt = t.voidedAt;
    if (t.rating !== undefined) v.rating = t.rating;
    visitors.push(v);
  }
  return visitors.sort((a, b) => a.arriveAt - b.arriveAt);
}

/** What the hall's history says about handling times and visitors' behaviour. */
export interface History {
  handling: Map<string, number[]>;
  behaviour: Behaviour;
  days: number;
}

/** Handling times per service and the visitors' behaviour over past days' events. */
export function historyFrom(daysEvents: ReadonlyArray<ReadonlyArray<HallEvent>>): History {
  const handling = new Map<string, number[]>();
  let called = 0;
  let skipped = 0;
  let recalled = 0;
  let recalledAnswered = 0;
  let returned = 0;
  let rated = 0;
  let timedOut = 0;
  const split: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  for (const events of daysEvents) {
    for (const t of track(events).values()) {
      if (t.finishedAt !== undefined) {
        const id = t.ticket.issuedServiceId;
        handling.set(id, [...(handling.get(id) ?? []), Math.max(1, t.servedMs)]);
      }
      if (t.called) called += 1;
      if (t.skippedAt !== undefined) skipped += 1;
      if (t.requeuedAt !== undefined) returned += 1;
      if ((t.recallsAtStart ?? 0) > 0 || t.skippedAt !== undefined) {
        recalled += 1;
        if (t.skippedAt === undefined) recalledAnswered += 1;
      }
      if (t.rating === 'timeout') timedOut += 1;
      else if (t.rating !== undefined) {
        rated += 1;
        split[t.rating - 1]! += 1;
      }
    }
  }
  const d = DEFAULT_BEHAVIOUR;
  const behaviour: Behaviour = {
    ...d,
    noShowShare: called > 0 ? recalled / called : d.noShowShare,
    recallAnswerShare: recalled > 0 ? recalledAnswered / recalled : d.recallAnswerShare,
    returnShare: skipped > 0 ? returned / skipped : d.returnShare,
    ratedShare: rated + timedOut > 0 ? rated / (rated + timedOut) : d.ratedShare,
    ratingSplit: rated > 0 ? split : d.ratingSplit,
  };
  return { handling, behaviour, days: daysEvents.length };
}
