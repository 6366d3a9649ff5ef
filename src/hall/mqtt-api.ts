import { z } from 'zod';
import type { Logger } from '../platform/logger.js';
import type { MqttBridge } from '../bus/bridge.js';
import { RequestError } from '../bus/bridge.js';
import type { Journal } from '../journal/journal.js';
import { ticketsAhead } from '../queue/ahead.js';
import { computeDayStats, type DayStats } from '../queue/stats.js';
import type { Hall } from './hall.js';
import { formatZodIssues, isQueueRequest, parseQueueRequest, queryRequestSchemas, type QueueRequestName } from './request-schemas.js';
import { affectedBy, queueDocument, windowDocument } from './retained-state.js';
import { eventsPage } from './events-query.js';

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
  /** Parts of `health` contributed by other components (the uplink). */
  private readonly healthParts = new Map<string, () => unknown>();
  private statsTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private dirtyAll = false;
  private readonly dirtyWindows = new Set<string>();
  private readonly dirtyServices = new Set<string>();
  private readonly unsubscribe: Array<() => void> = [];

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
    await this.bridge.start({ request: (command, payload, caller) => this.handle(command, payload, caller) });
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
  private async handle(command: string, payload: Record<string, unknown>, caller: { username: string; role: string }): Promise<unknown> {
    if (isQueueRequest(command)) return this.handleQueueCommand(command, payload, caller);
    return this.hall.inOrder(() => this.handleOther(command, payload, caller));
  }

  private async handleQueueCommand(command: QueueRequestName, payload: Record<string, unknown>, caller: { username: string; role: string }): Promise<unknown> {
    const parsed = parseQueueRequest(command, payload);
    if ('problems' in parsed) throw new RequestError('bad-request', parsed.problems);
    const result = await this.hall.submit(parsed.command);
    if (!result.ok) throw new RequestError(result.code, result.message);
    this.log.debug({ request: command, user: caller.username }, 'request done');
    return { ticket: result.ticket ?? null, events: result.events.map((e) => ({ seq: e.seq, type: e.type })) };
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
        const { serviceId, state } = parse(queryRequestSchemas.tickets, payload);
        const tickets = [...this.hall.engine.allTickets()].filter((t) => (!serviceId || t.serviceId === serviceId) && (!state || t.state === state));
        return { tickets: tickets.sort((a, b) => a.order - b.order) };
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
      day: this.hall.engine.currentDay() ?? null,
      services: model.services.map((s) => ({ id: s.id, prefix: s.prefix, name: s.name, dailyCap: s.dailyCap ?? null })),
      windows: model.windows.map((w) => ({ id: w.id, number: w.number, name: w.name, skills: w.skills.map((k) => k.serviceId), priorityWindow: w.priorityWindow })),
      requests: this.requestNames(),
    };
  }
}

const BUILT_IN = [
  // queue commands and queries handled here; device and report requests are added by the daemon
 'issue', 'call-next', 'call', 'recall', 'skip', 'requeue', 'transfer', 'start', 'finish', 'void', 'pause', 'resume', 'login', 'logout', 'rate', 'ticket', 'tickets', 'stats', 'info', 'health', 'events'];

function parse<T>(schema: z.ZodType<T>, payload: Record<string, unknown>): T {
  const result = schema.safeParse(payload);
  if (!result.success) throw new RequestError('bad-request', formatZodIssues(result.error.issues));
  return result.data;
}
