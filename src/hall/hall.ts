import type { Logger } from '../platform/logger.js';
import { EventBus } from '../platform/event-bus.js';
import { LatencyWindow } from '../platform/latency-window.js';
import { QueueEngine } from '../queue/engine.js';
import { QueueError, type QueueCommand } from '../queue/commands.js';
import type { HallEvent, SequencedEvent } from '../queue/events.js';
import type { QueueModel } from '../queue/model.js';
import type { Ticket, WindowState } from '../queue/ticket.js';
import { MIN_FINISHED_FOR_DAY_MEAN, StatsAccumulator, estimateWaitMinutes, type DayStats } from '../queue/stats.js';
import type { Journal } from '../journal/journal.js';
import { RequestOutcomes, type StoredOutcome } from '../journal/request-outcomes.js';
import { afterRequestCommitted } from '../platform/test-crash-hook.js';
import type { CommandResult, HallBusEvents, HallView, RememberedRequest, RequestIdentity } from './device-api.js';

export interface HallOptions {
  model: QueueModel;
  journal: Journal;
  log: Logger;
  /** The wall clock; tests pass a controllable one. */
  now?: () => number;
}

/**
 * The hall: the queue engine, its journal and its statistics, and the in-process bus that
 * devices and the MQTT API listen to. Every change goes through `execute` (queue commands) or
 * `record` (device events): journal first, then state, then the bus — so nothing outside the
 * process ever sees an event that a power cut could take back.
 *
 * Commands run synchronously, one at a time: the order of arrival is the order of service,
 * which is what makes 32 simultaneous "next" presses get 32 different tickets.
 */
export class Hall {
  readonly engine: QueueEngine;
  readonly bus: EventBus<HallBusEvents>;
  readonly view: HallView;
  /** Answers of requests already executed today, kept in the journal file. */
  readonly outcomes: RequestOutcomes;
  private stats: StatsAccumulator;
  private readonly journal: Journal;
  private readonly log: Logger;
  private readonly clock: () => number;
  private commandsRun = 0;
  private commandsRefused = 0;
  /** Time inside `execute` per command type (journal, state, and every listener), ms. */
  private readonly executeLatency = new Map<string, LatencyWindow>();
  private readonly commitLatency = new LatencyWindow();

  constructor(options: HallOptions) {
    this.engine = new QueueEngine(options.model);
    this.journal = options.journal;
    this.outcomes = options.journal.attach((db) => new RequestOutcomes(db));
    this.log = options.log;
    this.clock = options.now ?? Date.now;
    this.bus = new EventBus<HallBusEvents>(options.log);
    this.stats = new StatsAccumulator(options.model);
    this.view = this.makeView();
  }

  get model(): QueueModel {
    return this.engine.model;
  }

  now(): number {
    return this.clock();
  }

  /**
   * Rebuilds today's state from the journal. Only the journal's last day is read, so start-up
   * time does not grow with the number of past days; if that day is over, the next tick closes
   * it out (expiring what was left) and starts a new one.
   */
  replay(): { day: string | undefined; events: number } {
    const day = this.journal.currentDay();
    if (!day) return { day, events: 0 };
    const events = this.journal.readDay(day);
    for (const event of events) {
      this.engine.apply(event);
      this.stats.apply(event);
    }
    return { day, events: events.length };
  }

  /**
   * Runs one queue command: journal, state, then the bus. Never throws for a refusal. With
   * `remember`, the request's answer is journaled in the same transaction as the command's events
   * (`outcomeStored` then says so; a refusal or a command without events is the caller's to store).
   */
  execute(command: QueueCommand, remember?: RememberedRequest): CommandResult {
    const started = performance.now();
    try {
      return this.executeTimed(command, remember);
    } finally {
      let window = this.executeLatency.get(command.type);
      if (!window) this.executeLatency.set(command.type, (window = new LatencyWindow(256)));
      window.record(performance.now() - started);
    }
  }

  private executeTimed(command: QueueCommand, remember: RememberedRequest | undefined): CommandResult {
    const now = this.clock();
    const committed: SequencedEvent[] = [];
    let outcomeStored = false;
    try {
      this.engine.run(command, now, (events, phase) => {
        const withOutcome = phase === 'command' ? remember : undefined;
        committed.push(...this.commit(events, withOutcome, now));
        if (withOutcome) {
          outcomeStored = true;
          afterRequestCommitted();
        }
      });
      this.commandsRun += 1;
      return { ok: true, events: committed, ticket: this.ticketConcerned(command, committed), ...(outcomeStored ? { outcomeStored } : {}) };
    } catch (err) {
      if (err instanceof QueueError) {
        this.commandsRefused += 1;
        this.log.info({ command: command.type, code: err.code, window: windowOf(command) }, err.message);
        return { ok: false, code: err.code, message: err.message };
      }
      this.log.error({ err, command: command.type }, 'command failed');
      return { ok: false, code: 'internal', message: `the command could not be carried out: ${(err as Error).message}` };
    } finally {
      // Housekeeping events may have been committed even when the command itself was refused.
      this.publish(committed);
    }
  }

  /** Journals a device event (gate decision, printer fault ...) and puts it on the bus. */
  record(event: Omit<Extract<HallEvent, { type: `device.${string}` }>, 'at' | 'day'>): SequencedEvent {
    const now = this.clock();
    const day = this.engine.currentDay() ?? this.engine.calendar.businessDay(now);
    const [sequenced] = this.commit([{ ...event, at: now, day } as HallEvent]);
    this.publish([sequenced!]);
    return sequenced!;
  }

  /** Day rollover and closing time; the daemon calls this on a timer. */
  tick(): CommandResult {
    return this.execute({ type: 'tick' });
  }

  /** The stored answer of `(principal, transaction)` today, if that request already ran. */
  storedOutcome(id: RequestIdentity): StoredOutcome | undefined {
    return this.outcomes.find({ ...id, day: this.requestDay() });
  }

  /** Stores an answer on its own (a refusal, a request without events): one small journal write. */
  rememberOutcome(id: RequestIdentity, request: string, outcome: unknown): void {
    this.outcomes.write({ ...id, day: this.requestDay() }, request, outcome, this.clock());
  }

  /** The business day a request arriving now is executed in (the engine rolls over to it first). */
  private requestDay(): string {
    return this.engine.calendar.businessDay(this.clock());
  }

  statsToday(): DayStats {
    return this.stats.snapshot(this.clock());
  }

  counters(): { commandsRun: number; commandsRefused: number; listenerFailures: number } {
    return { commandsRun: this.commandsRun, commandsRefused: this.commandsRefused, listenerFailures: this.bus.listenerFailures };
  }

  /** Where a command's time goes on this box: the whole `execute`, and the journal commit in it. */
  latency(): { executeMs: Record<string, ReturnType<LatencyWindow['summary']>>; journalCommitMs: ReturnType<LatencyWindow['summary']> } {
    return {
      executeMs: Object.fromEntries([...this.executeLatency].map(([type, window]) => [type, window.summary()])),
      journalCommitMs: this.commitLatency.summary(),
    };
  }

  // ---------------------------------------------------------------- internals

  private commit(events: HallEvent[], remember?: RememberedRequest, now = this.clock()): SequencedEvent[] {
    const started = performance.now();
    const storeOutcome = remember
      ? (sequenced: readonly SequencedEvent[]) => this.outcomes.write({ ...remember.id, day: sequenced[0]!.day }, remember.request, remember.answer(sequenced), now)
      : undefined;
    const sequenced = this.journal.append(events, storeOutcome);
    this.commitLatency.record(performance.now() - started);
    for (const event of sequenced) {
      if (event.type === 'day.started') {
        this.closeOutStatsDay(event.at);
        this.pruneOutcomes(event.day);
      }
      this.stats.apply(event);
    }
    return sequenced;
  }

  /** A transaction id is remembered for its business day only. */
  private pruneOutcomes(today: string): void {
    try {
      const dropped = this.outcomes.pruneBefore(today);
      if (dropped > 0) this.log.info({ dropped, day: today }, 'request outcomes of past days pruned');
    } catch (err) {
      this.log.error({ err }, 'could not prune past request outcomes (they are ignored anyway: the key holds the day)');
    }
  }

  /** At rollover the finished day's statistics are compacted into the journal. */
  private closeOutStatsDay(at: number): void {
    const finished = this.engine.currentDay();
    if (finished) {
      try {
        this.journal.saveDailyStats(finished, this.stats.snapshot(at));
        this.log.info({ day: finished }, 'day closed out: statistics compacted');
      } catch (err) {
        this.log.error({ err, day: finished }, 'could not save the day statistics (they can be recomputed from the events)');
      }
    }
    this.stats = new StatsAccumulator(this.engine.model);
  }

  private publish(events: SequencedEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      this.bus.emit('event', event);
      if (event.type === 'ticket.called' || event.type === 'ticket.recalled') {
        const ticket = this.engine.ticket(event.number);
        const window = this.model.windows.find((w) => w.id === event.windowId);
        this.bus.emit('announce', {
          number: event.number,
          windowId: event.windowId,
          windowNumber: window?.number ?? 0,
          serviceId: ticket?.serviceId ?? '',
          recall: event.type === 'ticket.recalled',
          at: event.at,
        });
      }
    }
    this.bus.emit('committed', events);
    // The journal lines come last: nothing waits for them, while displays and subscribers do.
    for (const event of events) this.logEvent(event);
  }

  /** One journal line per event an operator would want to read. */
  private logEvent(event: SequencedEvent): void {
    const fields: Record<string, unknown> = { seq: event.seq, event: event.type, day: event.day };
    if ('number' in event) fields.ticket = event.number;
    if ('windowId' in event && event.windowId) fields.window = event.windowId;
    if ('ticket' in event) {
      fields.ticket = event.ticket.number;
      fields.service = event.ticket.serviceId;
      fields.channel = event.ticket.channel;
    }
    if ('deviceId' in event) fields.device = event.deviceId;
    if ('staffId' in event && event.staffId) fields.staff = event.staffId;
    if (event.type === 'ticket.voided') fields.reason = event.reason;
    if (event.type === 'ticket.rated') fields.rating = event.rating ?? 'timeout';
    this.log.info(fields, event.type);
  }

  private ticketConcerned(command: QueueCommand, events: SequencedEvent[]): Ticket | undefined {
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i]!;
      if (event.type === 'ticket.issued') return this.engine.ticket(event.ticket.number);
      if (event.type === 'ticket.called') return this.engine.ticket(event.number);
    }
    if ('number' in command && command.number) return this.engine.ticket(command.number);
    if ('windowId' in command) {
      const current = this.engine.windowState(command.windowId)?.current;
      if (current) return this.engine.ticket(current);
    }
    return undefined;
  }

  private makeView(): HallView {
    const hall = this;
    return {
      get model() {
        return hall.engine.model;
      },
      window: (windowId: string): WindowState | undefined => hall.engine.windowState(windowId),
      ticket: (number: string): Ticket | undefined => hall.engine.ticket(number),
      waiting: (serviceId: string): Ticket[] => hall.engine.waiting(serviceId),
      waitingCount: (serviceId: string): number => hall.engine.waitingCount(serviceId),
      waitingCountForWindow: (windowId: string): number => hall.engine.waitingCountForWindow(windowId),
      servedToday: (): number => hall.engine.servedToday(),
      recentCalls: (limit: number) => hall.engine.recentCalls(limit),
      estimatedWaitMinutes: (serviceId: string, ahead?: number): number => hall.estimateWait(serviceId, ahead),
      now: (): number => hall.clock(),
    };
  }

  estimateWait(serviceId: string, ahead?: number): number {
    const service = this.model.services.find((s) => s.id === serviceId);
    if (!service) return 0;
    const handling = this.stats.handling(serviceId);
    return estimateWaitMinutes({
      ahead: ahead ?? this.engine.waitingCount(serviceId),
      meanHandlingSeconds: handling.count >= MIN_FINISHED_FOR_DAY_MEAN ? handling.meanSeconds : undefined,
      defaultHandlingMinutes: service.averageHandlingMinutes,
      activeWindows: this.engine.activeWindowsFor(serviceId),
    });
  }
}

function windowOf(command: QueueCommand): string | undefined {
  return 'windowId' in command ? command.windowId : undefined;
}
