import { QueueEngine } from '../queue/engine.js';
import { QueueError, type QueueCommand } from '../queue/commands.js';
import type { HallEvent } from '../queue/events.js';
import type { QueueModel } from '../queue/model.js';
import { StatsAccumulator, type DayStats } from '../queue/stats.js';
import { TimedHeap } from './heap.js';
import { localToEpoch } from './local-time.js';
import type { Staffing } from './staffing.js';
import { RECALL_AFTER_MS, type SimVisitor } from './visitor.js';

export interface SimDayInput {
  model: QueueModel;
  /** The business day, YYYY-MM-DD. */
  date: string;
  visitors: ReadonlyArray<SimVisitor>;
  staffing: Staffing;
  /** Sees every event the engine emits, in order (a bench builds halls' journals from them). */
  onEvent?: (event: HallEvent) => void;
}

/** One ticket as the simulated day ended it. */
export interface SimTicket {
  number: string;
  /** The service it was issued for. */
  serviceId: string;
  arriveAt: number;
  /** First call − issue, ms; for a ticket still waiting at closing, closing − issue (a lower bound). */
  waitMs?: number;
  /** The wait is a lower bound: the ticket was never called before the hall closed. */
  censored?: boolean;
  state: string;
}

export interface SimWindowTime {
  /** Called, recalling or serving, ms. */
  busyMs: number;
  /** On shift, ms. */
  staffedMs: number;
}

export interface SimDayResult {
  date: string;
  tickets: SimTicket[];
  /** Issues the hall refused (closed, daily cap), by refusal code. */
  refused: Record<string, number>;
  /** The most tickets waiting at once, per service and `total`. */
  longestLine: Record<string, number>;
  /** Tickets still waiting when the hall closed, per issued service. */
  leftovers: Record<string, number>;
  windows: Record<string, SimWindowTime>;
  /** The day's statistics, computed by the hall's own StatsAccumulator from the day's events. */
  stats: DayStats;
  events: number;
}

type Action =
  | { k: 'arrive'; i: number }
  | { k: 'shift-start'; w: SimWindow }
  | { k: 'shift-end'; w: SimWindow }
  | { k: 'answer'; w: SimWindow; number: string }
  | { k: 'recall-due'; w: SimWindow; number: string }
  | { k: 'finish'; w: SimWindow; number: string }
  | { k: 'return'; number: string }
  | { k: 'void'; number: string }
  | { k: 'due' }
  | { k: 'close' };

interface SimWindow {
  id: string;
  services: ReadonlySet<string>;
  shiftsLeft: number;
  onShift: boolean;
  leaving: boolean;
  current?: string;
  busySince: number;
  idleSince: number;
  time: SimWindowTime;
}

interface Visit {
  visitor: SimVisitor;
  /** Calls still to be missed in this visit. */
  missedLeft: number;
}

/**
 * One hall day on the real QueueEngine, on a virtual clock: no I/O, no timers, no clock reads.
 * Staff press "next" the moment they are free and on shift; visitors arrive, answer or miss
 * calls, come back, and rate, as their SimVisitor says. Everything the engine emits also goes
 * through the hall's StatsAccumulator, so the figures are the ones the daemon would publish.
 */
export function simulateDay(input: SimDayInput): SimDayResult {
  const { model, date, visitors, staffing } = input;
  const engine = new QueueEngine(model);
  const stats = new StatsAccumulator(model);
  const heap = new TimedHeap<Action>();
  const recallLimit = model.policy.recallLimit;
  const earlyMs = model.policy.appointmentEarlyMinutes * 60_000;

  const visits = new Map<string, Visit>();
  const tickets = new Map<string, SimTicket>();
  const noShows = new Set<string>();
  const refused: Record<string, number> = {};
  const longestLine: Record<string, number> = { total: 0 };
  const leftovers: Record<string, number> = {};
  for (const s of model.services) {
    longestLine[s.id] = 0;
    leftovers[s.id] = 0;
  }
  let eventCount = 0;

  const windows: SimWindow[] = model.windows.map((def) => {
    const shifts = staffing.get(def.id) ?? [];
    const time = { busyMs: 0, staffedMs: shifts.reduce((sum, s) => sum + (s.to - s.from), 0) };
    const w: SimWindow = { id: def.id, services: new Set(def.skills.map((s) => s.serviceId)), shiftsLeft: shifts.length, onShift: false, leaving: false, busySince: 0, idleSince: 0, time };
    for (const shift of shifts) {
      heap.push(shift.from, { k: 'shift-start', w });
      heap.push(shift.to, { k: 'shift-end', w });
    }
    return w;
  });
  visitors.forEach((v, i) => {
    heap.push(v.arriveAt, { k: 'arrive', i });
  });
  if (model.clock.close - model.clock.open < 24 * 60) heap.push(localToEpoch(date, model.clock.close, model.clock.timeZone), { k: 'close' });

  const observe = (e: HallEvent): void => {
    eventCount += 1;
    stats.apply(e);
    input.onEvent?.(e);
    if (e.type === 'ticket.called') {
      const t = tickets.get(e.number);
      if (t && t.waitMs === undefined) t.waitMs = e.at - t.arriveAt;
    } else if (e.type === 'ticket.expired') {
      const t = tickets.get(e.number);
      if (t && !noShows.has(e.number)) {
        leftovers[t.serviceId] = (leftovers[t.serviceId] ?? 0) + 1;
        if (t.waitMs === undefined) {
          t.waitMs = e.at - t.arriveAt;
          t.censored = true;
        }
      }
    }
  };
  /**
   * decide + apply, as `engine.run` does, but without its housekeeping on every command: the
   * simulated day has exactly two housekeeping moments, its first command (day.started) and
   * closing time, and both are ticked explicitly. It saves a calendar look-up per command,
   * which is a tenth of a simulated day's time.
   */
  let started = false;
  const housekeep = (now: number): void => {
    const events = engine.housekeeping(now);
    for (const e of events) {
      engine.apply(e);
      observe(e);
    }
  };
  const run = (command: QueueCommand, now: number): HallEvent[] | undefined => {
    try {
      if (!started) {
        housekeep(now);
        started = true;
      }
      if (command.type === 'tick') {
        housekeep(now);
        return [];
      }
      const events = engine.decide(command, now);
      for (const e of events) {
        engine.apply(e);
        observe(e);
      }
      return events;
    } catch (err) {
      if (err instanceof QueueError) {
        if (command.type === 'issue') refused[err.code] = (refused[err.code] ?? 0) + 1;
        return undefined;
      }
      throw err;
    }
  };

  const callNext = (w: SimWindow, now: number): boolean => {
    if (!w.onShift || w.leaving || w.current !== undefined) return false;
    // Nothing to call: skip the call-next (and its refusal). The simulated hall never transfers
    // to a named window, so the window's services' lines are all it could call from.
    let waiting = 0;
    for (const serviceId of w.services) waiting += engine.waitingCount(serviceId);
    if (waiting === 0) return false;
    const events = run({ type: 'call-next', windowId: w.id }, now);
    const called = events?.find((e) => e.type === 'ticket.called');
    if (!called || called.type !== 'ticket.called') return false;
    const visit = visits.get(called.number);
    w.current = called.number;
    w.busySince = now;
    if (!visit) return true;
    if (visit.missedLeft === 0) heap.push(now + visit.visitor.walkMs, { k: 'answer', w, number: called.number });
    else {
      visit.missedLeft -= 1;
      heap.push(now + RECALL_AFTER_MS, { k: 'recall-due', w, number: called.number });
    }
    return true;
  };

  /** Idle windows, longest idle first, try to call; `serviceId` limits it to the windows that take it. */
  const dispatchIdle = (now: number, serviceId?: string, onlyOne = true): void => {
    const idle = windows.filter((w) => w.onShift && !w.leaving && w.current === undefined && (serviceId === undefined || w.services.has(serviceId)));
    idle.sort((a, b) => a.idleSince - b.idleSince);
    for (const w of idle) if (callNext(w, now) && onlyOne) return;
  };

  const endShift = (w: SimWindow, now: number): void => {
    w.leaving = false;
    w.onShift = false;
    const state = engine.windowState(w.id)?.status;
    if (state !== 'open') return;
    run(w.shiftsLeft > 0 ? { type: 'pause', windowId: w.id, reason: 'schedule' } : { type: 'logout', windowId: w.id }, now);
  };

  const freeWindow = (w: SimWindow, now: number): void => {
    w.time.busyMs += now - w.busySince;
    w.current = undefined;
    w.idleSince = now;
    if (w.leaving) endShift(w, now);
    else callNext(w, now);
  };

  const trackLines = (serviceId: string): void => {
    let total = 0;
    for (const s of model.services) total += engine.waitingCount(s.id);
    longestLine.total = Math.max(longestLine.total ?? 0, total);
    longestLine[serviceId] = Math.max(longestLine[serviceId] ?? 0, engine.waitingCount(serviceId));
  };

  for (let next = heap.pop(); next; next = heap.pop()) {
    const { at: now, value: action } = next;
    switch (action.k) {
      case 'arrive': {
        const v = visitors[action.i]!;
        const events = run(
          {
            type: 'issue',
            serviceId: v.serviceId,
            channel: v.channel,
            priority: v.priority,
            ...(v.items > 1 ? { items: Array.from({ length: v.items }, (_, k) => `matter ${k + 1}`) } : {}),
            ...(v.appointment ? { appointment: v.appointment } : {}),
          },
          now,
        );
        const issued = events?.find((e) => e.type === 'ticket.issued');
        if (!issued || issued.type !== 'ticket.issued') break;
        const number = issued.ticket.number;
        tickets.set(number, { number, serviceId: v.serviceId, arriveAt: now, state: 'waiting' });
        visits.set(number, { visitor: v, missedLeft: v.missedCalls });
        if (v.voidAt !== undefined) heap.push(Math.max(now, v.voidAt), { k: 'void', number });
        trackLines(v.serviceId);
        if (v.appointment && v.appointment.slotStart - earlyMs > now) heap.push(v.appointment.slotStart - earlyMs, { k: 'due' });
        else dispatchIdle(now, v.serviceId);
        break;
      }
      case 'due':
        dispatchIdle(now, undefined, false);
        break;
      case 'shift-start': {
        const w = action.w;
        w.shiftsLeft -= 1;
        w.onShift = true;
        w.leaving = false;
        const status = engine.windowState(w.id)?.status;
        if (status === 'closed') run({ type: 'login', windowId: w.id, staffId: `sim-${w.id}` }, now);
        else if (status === 'paused') run({ type: 'resume', windowId: w.id }, now);
        w.idleSince = now;
        callNext(w, now);
        break;
      }
      case 'shift-end': {
        const w = action.w;
        if (w.current !== undefined) w.leaving = true;
        else endShift(w, now);
        break;
      }
      case 'recall-due': {
        const { w, number } = action;
        const ticket = engine.ticket(number);
        const visit = visits.get(number);
        if (w.current !== number || !ticket || ticket.state !== 'called' || !visit) break;
        if (ticket.recalls < recallLimit) {
          run({ type: 'recall', windowId: w.id }, now);
          if (visit.missedLeft === 0) heap.push(now + visit.visitor.walkMs, { k: 'answer', w, number });
          else {
            visit.missedLeft -= 1;
            heap.push(now + RECALL_AFTER_MS, { k: 'recall-due', w, number });
          }
          break;
        }
        run({ type: 'skip', windowId: w.id }, now);
        noShows.add(number);
        if (visit.visitor.returnsAfterMs !== undefined) heap.push(now + visit.visitor.returnsAfterMs, { k: 'return', number });
        freeWindow(w, now);
        break;
      }
      case 'answer': {
        const { w, number } = action;
        if (w.current !== number || engine.ticket(number)?.state !== 'called') break;
        run({ type: 'start', windowId: w.id }, now);
        heap.push(now + visits.get(number)!.visitor.handlingMs, { k: 'finish', w, number });
        break;
      }
      case 'finish': {
        const { w, number } = action;
        if (w.current !== number) break;
        run({ type: 'finish', windowId: w.id }, now);
        const rating = visits.get(number)?.visitor.rating;
        if (rating !== undefined) run(rating === 'timeout' ? { type: 'rate', windowId: w.id, timedOut: true } : { type: 'rate', windowId: w.id, rating }, now);
        freeWindow(w, now);
        break;
      }
      case 'return': {
        const visit = visits.get(action.number);
        if (!visit || !run({ type: 'requeue', number: action.number }, now)) break;
        noShows.delete(action.number);
        visit.missedLeft = 0;
        const serviceId = engine.ticket(action.number)!.serviceId;
        trackLines(serviceId);
        dispatchIdle(now, serviceId);
        break;
      }
      case 'void': {
        const ticket = engine.ticket(action.number);
        if (!ticket || !run({ type: 'void', number: action.number, reason: 'recorded void' }, now)) break;
        const w = windows.find((x) => x.current === action.number);
        if (w) freeWindow(w, now);
        break;
      }
      case 'close':
        run({ type: 'tick' }, now);
        break;
    }
  }

  for (const t of tickets.values()) t.state = engine.ticket(t.number)?.state ?? t.state;
  const last = visitors.reduce((m, v) => Math.max(m, v.arriveAt), 0);
  return {
    date,
    tickets: [...tickets.values()],
    refused,
    longestLine,
    leftovers,
    windows: Object.fromEntries(windows.map((w) => [w.id, w.time])),
    stats: stats.snapshot(last),
    events: eventCount,
  };
}
