import { HallCalendar, formatMinutes } from './calendar.js';
import { selectNext, serviceLine, windowLine } from './call-policy.js';
import { QueueError, type QueueCommand } from './commands.js';
import { RATING_LABELS, type HallEvent } from './events.js';
import type { QueueModel, ServiceDef, WindowDef } from './model.js';
import { FINAL_STATES, type Ticket, type WindowState } from './ticket.js';
import { WaitingLines } from './waiting-lines.js';

/** Ratings are accepted this long after the ticket was finished; later ones are refused as late. */
export const RATING_WINDOW_MS = 5 * 60_000;
const RECENT_CALLS_KEPT = 20;
/** The largest epoch ms a JS Date can hold (±100,000,000 days). */
const MAX_DATE_MS = 8.64e15;
/** How long after its slot ended an appointment is still honoured, when the policy does not say. */
export const DEFAULT_APPOINTMENT_LATE_GRACE_MINUTES = 15;

export interface RecentCall {
  number: string;
  windowId: string;
  windowNumber: number;
  at: number;
}

/** Event minus the business-day stamp, which `stamp` adds. */
type Draft = HallEvent extends infer E ? (E extends HallEvent ? Omit<E, 'day'> : never) : never;

/**
 * The hall's queue as a state machine. `decide` turns a command into events without changing
 * anything (and throws QueueError for a refusal); `apply` is the only way state changes, and is
 * what replay from the journal uses. No I/O and no clock reads: time comes in as `now`.
 *
 * `run` ties the two together around a `commit` callback, which is where the hall makes the
 * events durable: events are applied only after commit returns, so a failed journal write
 * leaves the queue exactly as it was.
 */
export class QueueEngine {
  readonly calendar: HallCalendar;
  private readonly services = new Map<string, ServiceDef>();
  private readonly windowDefs = new Map<string, WindowDef>();

  private day: string | undefined;
  private closedForDay = false;
  private readonly tickets = new Map<string, Ticket>();
  private readonly counters = new Map<string, number>();
  private nextOrder = 1;
  private readonly windows = new Map<string, WindowState>();
  private readonly lines = new WaitingLines();
  private readonly recent: RecentCall[] = [];
  private served = 0;

  constructor(readonly model: QueueModel) {
    this.calendar = new HallCalendar(model.clock);
    for (const service of model.services) this.services.set(service.id, service);
    for (const window of model.windows) this.windowDefs.set(window.id, window);
    this.resetDay(undefined);
  }

  // ---------------------------------------------------------------- running commands

  /**
   * Housekeeping first (day rollover, closing time), then the command. Each batch is committed
   * (journaled) before it is applied; `phase` tells the day's housekeeping from the command's own
   * events (a request's outcome is journaled with the latter). Returns every event applied.
   */
  run(command: QueueCommand, now: number, commit: (events: HallEvent[], phase: 'housekeeping' | 'command') => void = () => {}): HallEvent[] {
    const applied: HallEvent[] = [];
    const housekeeping = this.housekeeping(now);
    if (housekeeping.length > 0) {
      commit(housekeeping, 'housekeeping');
      for (const event of housekeeping) this.apply(event);
      applied.push(...housekeeping);
    }
    if (command.type === 'tick') return applied;
    const events = this.decide(command, now);
    if (events.length > 0) {
      commit(events, 'command');
      for (const event of events) this.apply(event);
      applied.push(...events);
    }
    return applied;
  }

  /** Rollover and closing-time events due at `now`, if any. */
  housekeeping(now: number): HallEvent[] {
    const today = this.calendar.businessDay(now);
    const events: HallEvent[] = [];
    if (this.day !== today) {
      if (this.day !== undefined) {
        const oldDay = this.day;
        for (const ticket of this.tickets.values()) {
          if (!FINAL_STATES.has(ticket.state)) events.push({ type: 'ticket.expired', at: now, day: oldDay, number: ticket.number });
        }
        for (const window of this.windows.values()) {
          if (window.status !== 'closed') {
            events.push({ type: 'window.closed', at: now, day: oldDay, windowId: window.id, staffId: window.staffId });
          }
        }
      }
      events.push({ type: 'day.started', at: now, day: today });
      return events;
    }
    if (!this.closedForDay && this.calendar.isClosed(now)) {
      let expired = 0;
      for (const ticket of this.tickets.values()) {
        if (ticket.state === 'waiting' || ticket.state === 'no-show') {
          events.push({ type: 'ticket.expired', at: now, day: today, number: ticket.number });
          expired += 1;
        }
      }
      events.push({ type: 'day.closed', at: now, day: today, expired });
    }
    return events;
  }

  /** The events a command would produce. Throws QueueError when it must be refused. */
  decide(command: QueueCommand, now: number): HallEvent[] {
    const day = this.day ?? this.calendar.businessDay(now);
    const stamp = (drafts: Draft[]): HallEvent[] => drafts.map((draft) => ({ ...draft, day }) as HallEvent);
    switch (command.type) {
      case 'tick':
        return [];
      case 'record-journal-loss':
        return stamp([{ type: 'journal.loss', at: now, ...command.loss }]);
      case 'issue':
        return stamp([this.decideIssue(command, now)]);
      case 'call-next': {
        const { def, state } = this.staffedWindow(command.windowId, now);
        const drafts = this.finishCurrent(state, now);
        const next = selectNext({ window: def, windowState: state, policy: this.model.policy, lines: this.lines, tickets: this.tickets, now });
        if (next) drafts.push({ type: 'ticket.called', at: now, number: next.number, windowId: def.id, staffId: state.staffId, reason: 'next' });
        else if (drafts.length === 0) throw new QueueError('queue-empty', `no ticket is waiting for window ${def.number}`);
        return stamp(drafts);
      }
      case 'call': {
        const { def, state } = this.staffedWindow(command.windowId, now);
        const ticket = this.requireTicket(command.number);
        if (ticket.state !== 'waiting' && ticket.state !== 'no-show') {
          throw new QueueError('bad-state', `ticket ${ticket.number} cannot be called: it is ${ticket.state}`);
        }
        // A ticket sent to this window by name is this window's to call.
        if (ticket.targetWindowId !== def.id) this.requireSkill(def, ticket.serviceId, command.override, `call ${ticket.number} there`);
        const drafts = this.finishCurrent(state, now);
        drafts.push({ type: 'ticket.called', at: now, number: ticket.number, windowId: def.id, staffId: state.staffId, reason: 'direct' });
        return stamp(drafts);
      }
      case 'recall': {
        const { def, ticket } = this.currentTicket(command.windowId, 'called');
        if (ticket.recalls >= this.model.policy.recallLimit) {
          throw new QueueError('recall-limit', `ticket ${ticket.number} was already recalled ${ticket.recalls} times (limit ${this.model.policy.recallLimit}): skip it as a no-show`);
        }
        return stamp([{ type: 'ticket.recalled', at: now, number: ticket.number, windowId: def.id, recalls: ticket.recalls + 1 }]);
      }
      case 'skip': {
        const { def, ticket } = this.currentTicket(command.windowId, 'called');
        return stamp([{ type: 'ticket.skipped', at: now, number: ticket.number, windowId: def.id }]);
      }
      case 'requeue': {
        const ticket = this.requireTicket(command.number);
        if (ticket.state !== 'no-show') throw new QueueError('bad-state', `only a no-show can be put back in line; ticket ${ticket.number} is ${ticket.state}`);
        if (this.closedForDay) throw new QueueError('hall-closed', 'the hall has closed for today');
        const order = this.model.policy.requeuePlace === 'original' ? ticket.order : this.nextOrder;
        return stamp([{ type: 'ticket.requeued', at: now, number: ticket.number, order }]);
      }
      case 'transfer':
        return stamp([this.decideTransfer(command, now)]);
      case 'start': {
        const { def, ticket } = this.currentTicket(command.windowId, 'called');
        return stamp([{ type: 'ticket.started', at: now, number: ticket.number, windowId: def.id }]);
      }
      case 'finish': {
        const { def, state } = this.currentTicket(command.windowId);
        return stamp([{ type: 'ticket.finished', at: now, number: state.current!, windowId: def.id, staffId: state.staffId }]);
      }
      case 'void': {
        const ticket = this.requireTicket(command.number);
        if (FINAL_STATES.has(ticket.state)) throw new QueueError('bad-state', `ticket ${ticket.number} is already ${ticket.state}`);
        const reason = command.reason.trim();
        if (!reason) throw new QueueError('bad-request', 'a reason is needed to void a ticket');
        // A ticket voided while at a window leaves that window free: the event says which, so
        // its display, pad and retained document follow.
        const atWindow = ticket.windowId && (ticket.state === 'called' || ticket.state === 'serving') ? ticket.windowId : undefined;
        return stamp([{ type: 'ticket.voided', at: now, number: ticket.number, reason, ...(atWindow ? { windowId: atWindow } : {}) }]);
      }
      case 'pause': {
        const { def, state } = this.window(command.windowId);
        if (state.status === 'closed') throw new QueueError('window-closed', `window ${def.number} is closed: log in first`);
        if (state.status === 'paused') throw new QueueError('bad-state', `window ${def.number} is already paused`);
        return stamp([{ type: 'window.paused', at: now, windowId: def.id, reason: command.reason }]);
      }
      case 'resume': {
        const { def, state } = this.window(command.windowId);
        if (state.status !== 'paused') throw new QueueError('bad-state', `window ${def.number} is not paused`);
        return stamp([{ type: 'window.resumed', at: now, windowId: def.id }]);
      }
      case 'login':
        return stamp(this.decideLogin(command.windowId, command.staffId, now));
      case 'logout': {
        const { def, state } = this.window(command.windowId);
        if (state.status === 'closed') throw new QueueError('window-closed', `window ${def.number} is already closed`);
        if (command.staffId !== undefined && state.staffId !== undefined && command.staffId !== state.staffId) {
          throw new QueueError('wrong-staff', `window ${def.number} is staffed by ${state.staffId}, not ${command.staffId}`);
        }
        if (state.current) throw new QueueError('busy', `window ${def.number} still has ticket ${state.current}: finish, skip or transfer it first`);
        return stamp([{ type: 'window.closed', at: now, windowId: def.id, staffId: state.staffId }]);
      }
      case 'rate':
        return stamp([this.decideRating(command, now)]);
    }
  }

  private decideIssue(command: Extract<QueueCommand, { type: 'issue' }>, now: number): Draft {
    const service = this.services.get(command.serviceId);
    if (!service) throw new QueueError('unknown-service', `unknown service "${command.serviceId}"`);
    if (this.closedForDay || !this.calendar.acceptsTickets(now)) {
      const { open, close } = this.model.clock;
      throw new QueueError('hall-closed', `the hall is not taking tickets now (open ${formatMinutes(open)}-${formatMinutes(close)})`);
    }
    const issued = this.counters.get(service.id) ?? 0;
    const widthLimit = 10 ** service.digits - 1;
    const cap = Math.min(service.dailyCap ?? widthLimit, widthLimit);
    if (issued >= cap) throw new QueueError('daily-cap', `${service.name.en} (${service.name.zh}) has reached its daily limit of ${cap} tickets`);
    if (command.channel === 'appointment' && !command.appointment) {
      throw new QueueError('bad-request', 'an appointment ticket needs its appointment slot');
    }
    if (command.appointment) this.checkAppointment(command.appointment, now);
    const number = `${service.prefix}${String(issued + 1).padStart(service.digits, '0')}`;
    const ticket: Ticket = {
      number,
      day: this.day ?? this.calendar.businessDay(now),
      serviceId: service.id,
      issuedServiceId: service.id,
      channel: command.channel,
      priority: command.priority === true,
      items: command.items ?? [],
      issuedAt: now,
      order: this.nextOrder,
      state: 'waiting',
      recalls: 0,
      transfers: 0,
    };
    if (command.appointment) ticket.appointment = { ...command.appointment };
    return { type: 'ticket.issued', at: now, ticket };
  }

  private decideTransfer(command: Extract<QueueCommand, { type: 'transfer' }>, now: number): Draft {
    const ticket = this.requireTicket(command.number);
    if (!['waiting', 'called', 'serving', 'no-show'].includes(ticket.state)) {
      throw new QueueError('bad-state', `ticket ${ticket.number} cannot be transferred: it is ${ticket.state}`);
    }
    if (!command.toServiceId && !command.toWindowId) throw new QueueError('bad-request', 'transfer needs a service or a window to go to');
    const toService = command.toServiceId ?? ticket.serviceId;
    if (!this.services.has(toService)) throw new QueueError('unknown-service', `unknown service "${toService}"`);
    if (command.toWindowId && !this.windowDefs.has(command.toWindowId)) {
      throw new QueueError('unknown-window', `unknown window "${command.toWindowId}"`);
    }
    if (command.toWindowId) this.requireSkill(this.windowDefs.get(command.toWindowId)!, toService, command.override, `send ${ticket.number} there`);
    if (toService === ticket.serviceId && command.toWindowId === undefined) {
      throw new QueueError('bad-request', `ticket ${ticket.number} is already in the ${toService} line`);
    }
    return {
      type: 'ticket.transferred',
      at: now,
      number: ticket.number,
      fromServiceId: ticket.serviceId,
      toServiceId: toService,
      fromWindowId: ticket.windowId && (ticket.state === 'called' || ticket.state === 'serving') ? ticket.windowId : undefined,
      toWindowId: command.toWindowId,
    };
  }

  private decideLogin(windowId: string, staffId: string, now: number): Draft[] {
    const { def, state } = this.window(windowId);
    if (!staffId.trim()) throw new QueueError('bad-request', 'a staff id is needed to log in');
    if (state.status !== 'closed') {
      if (state.staffId === staffId) throw new QueueError('bad-state', `${staffId} is already logged in at window ${def.number}`);
      throw new QueueError('window-taken', `window ${def.number} is in use by ${state.staffId ?? 'someone'}: log out there first`);
    }
    const drafts: Draft[] = [];
    for (const other of this.windows.values()) {
      if (other.staffId === staffId && other.status !== 'closed') {
        if (other.current) {
          throw new QueueError('busy', `${staffId} still has ticket ${other.current} at window ${this.windowDefs.get(other.id)?.number}: finish it first`);
        }
        drafts.push({ type: 'window.closed', at: now, windowId: other.id, staffId });
      }
    }
    drafts.push({ type: 'window.opened', at: now, windowId: def.id, staffId });
    return drafts;
  }

  private decideRating(command: Extract<QueueCommand, { type: 'rate' }>, now: number): Draft {
    const { def, state } = this.window(command.windowId);
    const number = state.lastFinished;
    if (!number) throw new QueueError('no-ticket', `window ${def.number} has no finished ticket to rate`);
    if (command.number !== undefined && command.number !== number) {
      throw new QueueError('wrong-ticket', `rating for ${command.number} refused: window ${def.number} last finished ${number}`);
    }
    const ticket = this.requireTicket(number);
    if (ticket.ratedAt !== undefined || ticket.state !== 'done') {
      throw new QueueError('already-rated', `ticket ${number} was already rated`);
    }
    if (ticket.finishedAt !== undefined && now - ticket.finishedAt > RATING_WINDOW_MS) {
      throw new QueueError('late', `rating for ${number} arrived too late (${Math.round((now - ticket.finishedAt) / 1000)} s after it was finished)`);
    }
    const timedOut = command.timedOut === true;
    if (!timedOut && (command.rating === undefined || ![1, 2, 3, 4, 5].includes(command.rating))) {
      throw new QueueError('bad-request', `rating must be 1 (${RATING_LABELS[1].zh}) to 5 (${RATING_LABELS[5].zh}), or timedOut`);
    }
    return {
      type: 'ticket.rated',
      at: now,
      number,
      windowId: def.id,
      staffId: ticket.staffId,
      rating: timedOut ? undefined : command.rating,
      timedOut,
    };
  }

  // ---------------------------------------------------------------- applying events

  apply(event: HallEvent): void {
    switch (event.type) {
      case 'day.started':
        this.resetDay(event.day);
        return;
      case 'day.closed':
        this.closedForDay = true;
        return;
      case 'journal.loss':
        this.day ??= event.day;
        if (event.day !== this.day || event.watermarkDay !== this.day) return;
        // A floor only ever raises a counter: the next number is above every number issued.
        for (const [serviceId, floor] of Object.entries(event.numberFloors)) {
          if (Number.isSafeInteger(floor) && floor > 0) this.counters.set(serviceId, Math.max(this.counters.get(serviceId) ?? 0, floor));
        }
        return;
      case 'ticket.issued': {
        const ticket: Ticket = { ...event.ticket, items: [...event.ticket.items] };
        this.day ??= event.day;
        this.tickets.set(ticket.number, ticket);
        const service = this.services.get(ticket.issuedServiceId);
        const serial = Number(ticket.number.slice(service?.prefix.length ?? 1));
        this.counters.set(ticket.issuedServiceId, Math.max(this.counters.get(ticket.issuedServiceId) ?? 0, serial));
        this.nextOrder = Math.max(this.nextOrder, ticket.order + 1);
        this.enqueue(ticket);
        return;
      }
      case 'ticket.called': {
        const ticket = this.tickets.get(event.number);
        const window = this.windows.get(event.windowId);
        if (!ticket || !window) return;
        this.dequeue(ticket);
        ticket.state = 'called';
        ticket.windowId = event.windowId;
        ticket.staffId = event.staffId;
        ticket.calledAt = event.at;
        ticket.firstCalledAt ??= event.at;
        ticket.targetWindowId = undefined;
        window.current = ticket.number;
        window.priorityStreak = ticket.priority ? window.priorityStreak + 1 : 0;
        this.remember({ number: ticket.number, windowId: event.windowId, windowNumber: this.windowDefs.get(event.windowId)?.number ?? 0, at: event.at });
        return;
      }
      case 'ticket.recalled': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        ticket.recalls = event.recalls;
        ticket.calledAt = event.at;
        this.remember({ number: ticket.number, windowId: event.windowId, windowNumber: this.windowDefs.get(event.windowId)?.number ?? 0, at: event.at });
        return;
      }
      case 'ticket.skipped': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        ticket.state = 'no-show';
        this.release(ticket);
        return;
      }
      case 'ticket.requeued': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        ticket.state = 'waiting';
        ticket.order = event.order;
        ticket.recalls = 0;
        this.nextOrder = Math.max(this.nextOrder, event.order + 1);
        this.enqueue(ticket);
        return;
      }
      case 'ticket.transferred': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        this.dequeue(ticket);
        this.release(ticket);
        ticket.serviceId = event.toServiceId;
        ticket.targetWindowId = event.toWindowId;
        ticket.transfers += 1;
        ticket.windowId = undefined;
        ticket.state = 'waiting';
        ticket.recalls = 0;
        this.enqueue(ticket);
        return;
      }
      case 'ticket.started': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        ticket.state = 'serving';
        ticket.startedAt = event.at;
        return;
      }
      case 'ticket.finished': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        ticket.state = 'done';
        ticket.finishedAt = event.at;
        ticket.startedAt ??= ticket.calledAt;
        const window = ticket.windowId ? this.windows.get(ticket.windowId) : undefined;
        this.release(ticket);
        if (window) window.lastFinished = ticket.number;
        this.served += 1;
        return;
      }
      case 'ticket.voided':
      case 'ticket.expired': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        this.dequeue(ticket);
        this.release(ticket);
        ticket.state = event.type === 'ticket.voided' ? 'voided' : 'expired';
        return;
      }
      case 'ticket.rated': {
        const ticket = this.tickets.get(event.number);
        if (!ticket) return;
        ticket.ratedAt = event.at;
        if (event.rating !== undefined) ticket.rating = event.rating;
        const window = this.windows.get(event.windowId);
        if (window?.lastFinished === event.number) window.lastFinished = undefined;
        return;
      }
      case 'window.opened': {
        const window = this.windows.get(event.windowId);
        if (!window) return;
        window.status = 'open';
        window.staffId = event.staffId;
        window.pausedReason = undefined;
        window.priorityStreak = 0;
        return;
      }
      case 'window.closed': {
        const window = this.windows.get(event.windowId);
        if (!window) return;
        window.status = 'closed';
        window.staffId = undefined;
        window.pausedReason = undefined;
        return;
      }
      case 'window.paused': {
        const window = this.windows.get(event.windowId);
        if (!window) return;
        window.status = 'paused';
        window.pausedReason = event.reason;
        return;
      }
      case 'window.resumed': {
        const window = this.windows.get(event.windowId);
        if (!window) return;
        window.status = 'open';
        window.pausedReason = undefined;
        return;
      }
      default:
        // device.* events belong to the hall, not the queue.
        return;
    }
  }

  // ---------------------------------------------------------------- queries

  currentDay(): string | undefined {
    return this.day;
  }

  ticket(number: string): Ticket | undefined {
    return this.tickets.get(number);
  }

  allTickets(): IterableIterator<Ticket> {
    return this.tickets.values();
  }

  windowState(windowId: string): WindowState | undefined {
    return this.windows.get(windowId);
  }

  windowStates(): IterableIterator<WindowState> {
    return this.windows.values();
  }

  /** Tickets waiting in a service's line (not those sent to a named window), in line order. */
  waiting(serviceId: string): Ticket[] {
    return this.lines.line(serviceLine(serviceId)).map((entry) => this.tickets.get(entry.number)!);
  }

  /**
   * A service's line at a glance, in one pass and without building the list: how many wait,
   * how many of them are priority tickets, the first `firstN` numbers, and the oldest issue time.
   */
  waitingSummary(serviceId: string, firstN: number): { count: number; priority: number; next: string[]; oldestIssuedAt: number | undefined } {
    const key = serviceLine(serviceId);
    const entries = this.lines.line(key);
    return { count: entries.length, priority: this.lines.priorities(key), next: entries.slice(0, firstN).map((entry) => entry.number), oldestIssuedAt: this.lines.oldestIssuedAt(key) };
  }

  /** How many wait in a service's line, without building the list. */
  waitingCount(serviceId: string): number {
    return this.lines.size(serviceLine(serviceId));
  }

  /**
   * How many this window could call: its services' lines (a waiting ticket is in exactly one
   * line) plus the tickets sent to it by name.
   */
  waitingCountForWindow(windowId: string): number {
    const def = this.model.windows.find((w) => w.id === windowId);
    if (!def) return 0;
    const services = new Set(def.skills.map((skill) => skill.serviceId));
    let count = this.lines.size(windowLine(windowId));
    for (const serviceId of services) count += this.lines.size(serviceLine(serviceId));
    return count;
  }

  /** Tickets sent to this window by name, in line order. */
  waitingForWindow(windowId: string): Ticket[] {
    return this.lines.line(windowLine(windowId)).map((entry) => this.tickets.get(entry.number)!);
  }

  issuedCount(serviceId: string): number {
    return this.counters.get(serviceId) ?? 0;
  }

  servedToday(): number {
    return this.served;
  }

  recentCalls(limit: number): RecentCall[] {
    return this.recent.slice(0, limit);
  }

  /** Windows that could call this service's tickets right now (staffed, not paused). */
  activeWindowsFor(serviceId: string): number {
    let count = 0;
    for (const def of this.model.windows) {
      if (this.windows.get(def.id)?.status === 'open' && def.skills.some((skill) => skill.serviceId === serviceId)) count += 1;
    }
    return count;
  }

  // ---------------------------------------------------------------- internals

  private resetDay(day: string | undefined): void {
    this.day = day;
    this.closedForDay = false;
    this.tickets.clear();
    this.counters.clear();
    this.lines.clear();
    this.nextOrder = 1;
    this.recent.length = 0;
    this.served = 0;
    this.windows.clear();
    for (const def of this.model.windows) this.windows.set(def.id, { id: def.id, status: 'closed', priorityStreak: 0 });
  }

  private enqueue(ticket: Ticket): void {
    if (ticket.state !== 'waiting') return;
    const key = ticket.targetWindowId ? windowLine(ticket.targetWindowId) : serviceLine(ticket.serviceId);
    this.lines.insert(key, { number: ticket.number, order: ticket.order, priority: ticket.priority, appointment: ticket.appointment !== undefined, issuedAt: ticket.issuedAt });
  }

  private dequeue(ticket: Ticket): void {
    if (ticket.state !== 'waiting') return;
    const key = ticket.targetWindowId ? windowLine(ticket.targetWindowId) : serviceLine(ticket.serviceId);
    this.lines.remove(key, ticket.number);
  }

  /** Frees the window the ticket was at. */
  private release(ticket: Ticket): void {
    if (!ticket.windowId) return;
    const window = this.windows.get(ticket.windowId);
    if (window?.current === ticket.number) window.current = undefined;
  }

  private remember(call: RecentCall): void {
    this.recent.unshift(call);
    if (this.recent.length > RECENT_CALLS_KEPT) this.recent.length = RECENT_CALLS_KEPT;
  }

  private window(windowId: string): { def: WindowDef; state: WindowState } {
    const def = this.windowDefs.get(windowId);
    const state = this.windows.get(windowId);
    if (!def || !state) throw new QueueError('unknown-window', `unknown window "${windowId}"`);
    return { def, state };
  }

  /** A window that may call tickets now. */
  private staffedWindow(windowId: string, now: number): { def: WindowDef; state: WindowState } {
    const found = this.window(windowId);
    const { def, state } = found;
    if (state.status === 'closed') throw new QueueError('window-closed', `window ${def.number} is closed: log in first`);
    if (state.status === 'paused') throw new QueueError('window-paused', `window ${def.number} is paused: resume first`);
    if (this.model.policy.enforceWindowSchedule) {
      const minutes = this.calendar.minutesOfDay(now);
      const ranges = def.schedule.length > 0 ? def.schedule : [{ from: this.model.clock.open, to: this.model.clock.close }];
      if (!ranges.some((range) => minutes >= range.from && minutes < range.to)) {
        const hours = ranges.map((range) => `${formatMinutes(range.from)}-${formatMinutes(range.to)}`).join(', ');
        throw new QueueError('off-duty', `window ${def.number} is off duty now (schedule ${hours})`);
      }
    }
    return found;
  }

  private currentTicket(windowId: string, requiredState?: Ticket['state']): { def: WindowDef; state: WindowState; ticket: Ticket } {
    const { def, state } = this.window(windowId);
    const ticket = state.current ? this.tickets.get(state.current) : undefined;
    if (!ticket) throw new QueueError('no-ticket', `window ${def.number} has no ticket called`);
    if (requiredState && ticket.state !== requiredState) {
      throw new QueueError('bad-state', `ticket ${ticket.number} at window ${def.number} is ${ticket.state}, not ${requiredState}`);
    }
    return { def, state, ticket };
  }

  private requireTicket(number: string): Ticket {
    const ticket = this.tickets.get(number);
    if (!ticket) throw new QueueError('unknown-ticket', `no ticket ${number} today`);
    return ticket;
  }

  /**
   * A window takes the services in its skills. An operator's direct call and a transfer to a
   * named window may go beyond them only when they say so (`override: true`): sending a medical
   * case to a general-only window is usually a slip, sometimes a supervisor's decision.
   */
  private requireSkill(def: WindowDef, serviceId: string, override: boolean | undefined, what: string): void {
    if (override === true || def.skills.some((skill) => skill.serviceId === serviceId)) return;
    const name = this.services.get(serviceId)?.name;
    const skills = def.skills.map((skill) => skill.serviceId).join(', ');
    throw new QueueError('skill', `window ${def.number} does not take ${name ? `${name.en} (${name.zh})` : serviceId} (its services: ${skills}); pass override: true to ${what} anyway`);
  }

  /**
   * An appointment slot must lie within today's business day (a slot of another day, or a time
   * no calendar can show, would be accepted and never called), and its holder must come before
   * the slot has been over for longer than the grace.
   */
  private checkAppointment(slot: { slotStart: number; slotEnd: number }, now: number): void {
    const { slotStart, slotEnd } = slot;
    const representable = (ms: number): boolean => Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_DATE_MS;
    if (!representable(slotStart) || !representable(slotEnd)) {
      throw new QueueError('bad-request', 'an appointment slot needs start and end as epoch milliseconds of a real date');
    }
    if (!(slotEnd > slotStart)) throw new QueueError('bad-request', 'an appointment slot must end after it starts');
    const today = this.day ?? this.calendar.businessDay(now);
    const slotDay = this.calendar.businessDay(slotStart);
    if (slotDay !== today || this.calendar.businessDay(slotEnd - 1) !== today) {
      throw new QueueError('appointment-day', `the appointment slot is on ${slotDay}${slotDay === today ? ' but runs past the end of the day' : ''}, not within today (${today})`);
    }
    const graceMinutes = this.model.policy.appointmentLateGraceMinutes ?? DEFAULT_APPOINTMENT_LATE_GRACE_MINUTES;
    if (now > slotEnd + graceMinutes * 60_000) {
      const ended = formatMinutes(this.calendar.minutesOfDay(slotEnd));
      throw new QueueError('appointment-late', `the appointment slot ended at ${ended}, more than ${graceMinutes} min ago: take a normal ticket`);
    }
  }

  /** Pressing "next" while a ticket is at the window finishes it first. */
  private finishCurrent(state: WindowState, now: number): Draft[] {
    if (!state.current) return [];
    return [{ type: 'ticket.finished', at: now, number: state.current, windowId: state.id, staffId: state.staffId }];
  }
}

