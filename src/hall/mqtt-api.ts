import { z } from 'zod';
import type { Logger } from '../platform/logger.js';
import type { MqttBridge } from '../bus/bridge.js';
import { RequestError } from '../bus/bridge.js';
import type { Journal } from '../journal/journal.js';
import { ticketsAhead } from '../queue/ahead.js';
import { computeDayStats, type DayStats } from '../queue/stats.js';
import type { Hall } from './hall.js';
import type { RequestIdentity } from '../device-contract/index.js';
import type { StoredOutcome } from '../journal/request-outcomes.js';
import type { SequencedEvent } from '../queue/events.js';
import { formatZodIssues, isQueueRequest, parseQueueRequest, queryRequestSchemas, type QueueRequestName } from './request-schemas.js';
import { affectedBy, queueDocument, windowDocument } from './retained-state.js';
import { eventsPage } from './events-query.js';

/**
 * Requests that only read: they change nothing, so running one twice is harmless and their
 * (possibly large) answers are not stored for resends.
 */
const QUERIES: ReadonlySet<string> = new Set(['ticket', 'tickets', 'stats', 'info', 'health', 'devices', 'report', 'events']);

/** What is kept of a request's answer for a resend of the same transaction. */
type KeptOutcome =
  | { status: 'ok'; ticket: string | null; events: Array<{ seq: number; type: string }> }
  | { status: 'ok'; data: unknown }
  | { status: 'error'; code: string; error: string };

type Asker = { username: string; role: string; transaction?: string | number };

export type ExtraRequestHandler = (payload: Record<string, unknown>, caller: { username: string; role: string }) => Promise<unknown> | unknown;

/** Coalesce `stats/today`: it is the most expensive document and the least urgent. */
const STATS_PUBLISH_INTERVAL_MS = 1000;

/**
 * The hall's MQTT face: queue commands and queries as requests, the event stream, and the
 * retained state documents kept current as events happen. Everything the dashboard does goes
 * through here, so any MQTT client can do it too.
 */
export class MqttApi {
  private readonly extra = new Map<string, ExtraRequestHandler>();
  /** Resends answered from a stored outcome instead of being executed again. */
  private replayed = 0;
  /** Once-requests still running, by (user, transaction): a copy arriving meanwhile waits for them. */
  private readonly runningOnce = new Map<string, Promise<unknown>>();
  /** Parts of `health` contributed by other components (the uplink). */
  private readonly healthParts = new Map<string, () => unknown>();
  private statsTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private dirtyAll = false;
  private readonly dirtyWindows = new Set<string>();
  private readonly dirtyServices = new Set<string>();
  private readonly unsubscribe: Array<() => void> = [];
  /** Where an `issue`'s contact goes (src/notify); undefined when the hall sends no notifications. */
  private contacts: ((number: string, contact: string) => void) | undefined;

  constructor(
    private readonly hall: Hall,
    private readonly bridge: MqttBridge,
    private readonly journal: Journal,
    private readonly log: Logger,
  ) {}

  /** Requests contributed by other parts of the daemon (devices: gate-hold, reprint ...). */
  addRequest(name: string, handler: ExtraRequestHandler): void {
    if (isQueueRequest(name) || this.extra.has(name)) throw new Error(`request "${name}" is already defined`);
    this.extra.set(name, handler);
  }

  /** Lets `issue` carry a `contact` (for "your turn is near"): it goes to `attach`, never to the queue. */
  acceptContacts(attach: (number: string, contact: string) => void): void {
    this.contacts = attach;
  }

  /** Adds `name` to the `health` answer (e.g. `uplink`: its link and backlog). */
  addHealth(name: string, part: () => unknown): void {
    this.healthParts.set(name, part);
  }

  requestNames(): string[] {
    return [...BUILT_IN, ...this.extra.keys()].sort();
  }

  async start(): Promise<void> {
    // The events of one command go to the broker together, once the listeners that drive
    // hardware have put their frames on the serial lines (their microtasks are queued first):
    // publishing first measured worse for both paths, as the broker's work delays the frames.
    const dispatcher = this.hall.dispatcher;
    this.hall.waitForOutputs(() => this.bridge.outputsPending());
    this.unsubscribe.push(dispatcher.on('mqtt', (events) => dispatcher.defer('mqtt', () => this.bridge.publishEvents(events))));
    this.unsubscribe.push(
      dispatcher.on('state', (events) => {
        // The state documents are rebuilt off the call-next path: a burst of events costs one
        // rebuild per document, after the displays and pads have had their frames.
        for (const event of events) {
          const { windows, services, all } = affectedBy(this.hall, event);
          this.dirtyAll ||= all;
          for (const windowId of windows) this.dirtyWindows.add(windowId);
          for (const serviceId of services) this.dirtyServices.add(serviceId);
        }
        this.scheduleStateFlush();
        this.scheduleStats();
      }),
    );
    await this.bridge.start({
      request: (command, payload, caller, transaction) =>
        transaction === undefined || QUERIES.has(command) ? this.handle(command, payload, caller) : this.handleOnce(command, payload, caller, transaction),
    });
    this.publishAllState();
    this.publishStats();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
  }

  private scheduleStateFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.hall.dispatcher.defer('state', () => {
      this.flushScheduled = false;
      if (this.dirtyAll) this.publishAllState();
      else {
        for (const windowId of this.dirtyWindows) this.publishWindow(windowId);
        for (const serviceId of this.dirtyServices) this.publishQueue(serviceId);
      }
      this.dirtyAll = false;
      this.dirtyWindows.clear();
      this.dirtyServices.clear();
    }, 'immediate');
  }

  publishAllState(): void {
    for (const window of this.hall.model.windows) this.publishWindow(window.id);
    for (const service of this.hall.model.services) this.publishQueue(service.id);
  }

  private publishWindow(windowId: string): void {
    const doc = windowDocument(this.hall, windowId);
    if (doc) this.bridge.publishRetained(`window/${windowId}`, doc);
  }

  private publishQueue(serviceId: string): void {
    const doc = queueDocument(this.hall, serviceId);
    if (doc) this.bridge.publishRetained(`queue/${serviceId}`, doc);
  }

  private scheduleStats(): void {
    if (this.statsTimer) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      this.hall.dispatcher.guard('state', () => this.publishStats());
    }, STATS_PUBLISH_INTERVAL_MS);
    this.statsTimer.unref();
  }

  private publishStats(): void {
    try {
      this.bridge.publishRetained('stats/today', this.hall.statsToday());
    } catch (err) {
      this.log.error({ err }, 'could not publish stats/today');
    }
  }

  /**
   * The bridge calls this as each request arrives. Queue commands join the hall's group commit;
   * everything else runs in the hall's order after them (a `ticket` query right after an
   * `issue` sees the new ticket), so the outcome is as if requests ran one at a time.
   */
  /** Requests handled, refused, answered busy (health shows them). */
  bridgeCounters(): ReturnType<MqttBridge['counters']> {
    return this.bridge.counters();
  }

  /**
   * A request that changes something, sent with a transaction: executed at most once per user,
   * transaction and business day. The answer is stored with the command's events (one journal
   * transaction), so even a kill -9 before the answer went out leaves the resend its answer.
   * A copy arriving while the first is still running waits for it and gets its answer.
   */
  private async handleOnce(command: string, payload: Record<string, unknown>, caller: Asker, transaction: string | number): Promise<unknown> {
    const id: RequestIdentity = { principal: caller.username, transaction };
    const key = JSON.stringify([id.principal, transaction]);
    const running = this.runningOnce.get(key);
    if (running) {
      await running.catch(() => undefined);
      return this.handleOnce(command, payload, caller, transaction);
    }
    const stored = this.hall.storedOutcome(id);
    if (stored) return this.replay(command, stored, id);
    const work = this.runOnce(command, payload, caller, id);
    this.runningOnce.set(key, work);
    try {
      return await work;
    } finally {
      this.runningOnce.delete(key);
    }
  }

  private async runOnce(command: string, payload: Record<string, unknown>, caller: Asker, id: RequestIdentity): Promise<unknown> {
    if (isQueueRequest(command)) {
      const parsed = parseQueueRequest(command, payload);
      // Nothing ran: a corrected resend under the same transaction may still run.
      if ('problems' in parsed) throw new RequestError('bad-request', parsed.problems);
      this.refuseContactWhenOff(parsed.contact);
      const result = await this.hall.submit(parsed.command, { id, request: command, answer: (events) => queueOutcome(events), refusal: (code, error) => ({ status: 'error', code, error }) });
      if (!result.ok) {
        // A failed commit ran nothing either; a refusal by the queue is the request's answer
        // (kept with the group's commit, or here if that could not be done).
        if (result.code !== 'internal' && !result.outcomeStored) this.remember(id, command, { status: 'error', code: result.code, error: result.message });
        throw new RequestError(result.code, result.message);
      }
      const outcome = queueOutcome(result.events);
      if (!result.outcomeStored) this.remember(id, command, outcome);
      if (parsed.contact !== undefined && result.ticket) this.contacts?.(result.ticket.number, parsed.contact);
      // Built from the kept outcome, so the first answer and a resend's are the same.
      return this.answerOf(outcome);
    }
    const handler = this.extra.get(command);
    if (!handler) return this.handle(command, payload, caller);
    // Device and hall operations journal their own events (if any): their answer is stored right
    // after, in its own write — a crash in between can run such a request twice.
    return this.hall.inOrder(async () => {
      try {
        const data = await handler(payload, caller);
        this.remember(id, command, { status: 'ok', data: data ?? null });
        return data;
      } catch (err) {
        if (err instanceof RequestError && err.code !== 'bad-request') this.remember(id, command, { status: 'error', code: err.code, error: err.message });
        throw err;
      }
    });
  }

  private remember(id: RequestIdentity, command: string, outcome: KeptOutcome): void {
    try {
      this.hall.rememberOutcome(id, command, outcome);
    } catch (err) {
      // The request did run; its answer still goes out. Only a later resend would run it again.
      this.log.error({ err, request: command, user: id.principal, transaction: id.transaction }, 'could not store the request outcome');
    }
  }

  private replay(command: string, stored: StoredOutcome, id: RequestIdentity): unknown {
    if (stored.command !== command) {
      throw new RequestError(
        'transaction-reused',
        `transaction ${JSON.stringify(id.transaction)} was already used today for "${stored.command}"; send a new transaction id with every new request`,
      );
    }
    this.replayed += 1;
    this.log.info({ request: command, user: id.principal, transaction: id.transaction }, 'resent request answered from its stored outcome, not executed again');
    return this.answerOf(stored.outcome as KeptOutcome);
  }

  private answerOf(outcome: KeptOutcome): unknown {
    if (outcome.status === 'error') throw new RequestError(outcome.code, outcome.error);
    if ('data' in outcome) return outcome.data;
    return { ticket: (outcome.ticket !== null ? this.hall.engine.ticket(outcome.ticket) : undefined) ?? null, events: outcome.events };
  }

  private async handle(command: string, payload: Record<string, unknown>, caller: { username: string; role: string }): Promise<unknown> {
    if (isQueueRequest(command)) return this.handleQueueCommand(command, payload, caller);
    return this.hall.inOrder(() => this.handleOther(command, payload, caller));
  }

  private async handleQueueCommand(command: QueueRequestName, payload: Record<string, unknown>, caller: { username: string; role: string }): Promise<unknown> {
    const parsed = parseQueueRequest(command, payload);
    if ('problems' in parsed) throw new RequestError('bad-request', parsed.problems);
    this.refuseContactWhenOff(parsed.contact);
    const result = await this.hall.submit(parsed.command);
    if (!result.ok) throw new RequestError(result.code, result.message);
    if (parsed.contact !== undefined && result.ticket) this.contacts?.(result.ticket.number, parsed.contact);
    this.log.debug({ request: command, user: caller.username }, 'request done');
    return { ticket: result.ticket ?? null, events: result.events.map((e) => ({ seq: e.seq, type: e.type })) };
  }

  private refuseContactWhenOff(contact: string | undefined): void {
    if (contact !== undefined && !this.contacts) throw new RequestError('notifications-off', 'this hall sends no notifications (no notify: section in its config): issue without a contact');
  }

  private handleOther(command: string, payload: Record<string, unknown>, caller: { username: string; role: string }): unknown {
    switch (command) {
      case 'ticket': {
        const { number } = parse(queryRequestSchemas.ticket, payload);
        const ticket = this.hall.engine.ticket(number);
        if (!ticket) throw new RequestError('unknown-ticket', `no ticket ${number} today`);
        return { ticket, ahead: this.ahead(number) };
      }
      case 'tickets': {
        const { serviceId, state, limit, after } = parse(queryRequestSchemas.tickets, payload);
        const tickets = [...this.hall.engine.allTickets()].filter((t) => (!serviceId || t.serviceId === serviceId) && (!state || t.state === state)).sort((a, b) => a.order - b.order);
        // A page starts after the ticket the previous one ended with (in line order).
        let start = 0;
        if (after !== undefined) {
          const from = this.hall.engine.ticket(after);
          if (!from) throw new RequestError('unknown-ticket', `no ticket ${after} today to page after`);
          start = tickets.findIndex((t) => t.order > from.order);
          if (start < 0) start = tickets.length;
        }
        const page = tickets.slice(start, start + limit);
        const more = start + limit < tickets.length;
        return { tickets: page, next: more ? page[page.length - 1]!.number : null };
      }
      case 'stats': {
        const { day } = parse(queryRequestSchemas.stats, payload);
        return this.dayStats(day);
      }
      case 'info':
        return this.info();
      case 'health':
        return {
          ...this.hall.counters(),
          replayedRequests: this.replayed,
          requests: this.bridge.counters(),
          day: this.hall.engine.currentDay() ?? null,
          lastSeq: this.journal.lastSeq(),
          latency: this.hall.latency(),
          ...Object.fromEntries([...this.healthParts].map(([name, part]) => [name, part()])),
        };
      case 'events':
        return eventsPage(this.journal, payload);
      default: {
        const handler = this.extra.get(command);
        if (!handler) throw new RequestError('unknown-command', `unknown command "${command}" (known: ${this.requestNames().join(', ')})`);
        return handler(payload, caller);
      }
    }
  }

  /** Today's figures live, a past day's from the journal (compacted, or recomputed from events). */
  dayStats(day?: string): DayStats {
    if (!day || day === this.hall.engine.currentDay()) return this.hall.statsToday();
    const stored = this.journal.dailyStats(day);
    if (stored) return stored;
    const events = this.journal.readDay(day);
    if (events.length === 0) throw new RequestError('unknown-day', `no journal entries for ${day}`);
    return computeDayStats(this.hall.model, events);
  }

  /** Tickets that will be called before a waiting ticket (0 = next); see ticketsAhead. */
  private ahead(number: string): number | null {
    return ticketsAhead(this.hall.engine, number);
  }

  info(): Record<string, unknown> {
    const model = this.hall.model;
    return {
      hallId: model.hallId,
      // The central collector computes the hall's figures with the hall's own code: it needs the clock's zone.
      timeZone: model.clock.timeZone,
      day: this.hall.engine.currentDay() ?? null,
      services: model.services.map((s) => ({ id: s.id, prefix: s.prefix, name: s.name, dailyCap: s.dailyCap ?? null })),
      windows: model.windows.map((w) => ({ id: w.id, number: w.number, name: w.name, skills: w.skills.map((k) => k.serviceId), priorityWindow: w.priorityWindow })),
      requests: this.requestNames(),
    };
  }
}

/** `tickets` answers in pages: a full day (2000 tickets) in one answer is ~450 KB. */

/**
 * What a queue command's answer is made of, from its events alone (it is built while they are
 * committed, before the engine applies them): the ticket concerned and the events. A resend
 * gets the same events and that ticket as it is now.
 */
function queueOutcome(events: readonly SequencedEvent[]): KeptOutcome {
  let ticket: string | null = null;
  for (const event of events) {
    if (event.type === 'ticket.issued') ticket = event.ticket.number;
    else if ('number' in event && typeof event.number === 'string') ticket = event.number;
  }
  return { status: 'ok', ticket, events: events.map((e) => ({ seq: e.seq, type: e.type })) };
}

const BUILT_IN = [
  // queue commands and queries handled here; device and report requests are added by the daemon
 'issue', 'call-next', 'call', 'recall', 'skip', 'requeue', 'transfer', 'start', 'finish', 'void', 'pause', 'resume', 'login', 'logout', 'rate', 'ticket', 'tickets', 'stats', 'info', 'health', 'events'];

function parse<T>(schema: z.ZodType<T>, payload: Record<string, unknown>): T {
  const result = schema.safeParse(payload);
  if (!result.success) throw new RequestError('bad-request', formatZodIssues(result.error.issues));
  return result.data;
}
