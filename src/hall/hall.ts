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
import type { CommandResult, HallBusEvents, HallView } from '../device-contract/index.js';

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

  /** Runs one queue command: journal, state, then the bus. Never throws for a refusal. */
  execute(command: QueueCommand): CommandResult {
    const started = performance.now();
    try {
      return this.executeTimed(command);
    } finally {
      let window = this.executeLatency.get(command.type);
      if (!window) this.executeLatency.set(command.type, (window = new LatencyWindow(256)));
      window.record(performance.now() - started);
    }
  }

  private executeTimed(command: QueueCommand): CommandResult {
    const now = this.clock();
    const committed: SequencedEvent[] = [];
    try {
      this.engine.run(command, now, (events) => committed.push(...this.commit(events)));
      this.commandsRun += 1;
      return { ok: true, events: committed, ticket: this.ticketConcerned(command, committed) };
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

  private commit(events: HallEvent[]): SequencedEvent[] {
    const started = performance.now();
    const sequenced = this.journal.append(events);
    this.commitLatency.record(performance.now() - started);
    for (const event of sequenced) {
      if (event.type === 'day.started') this.closeOutStatsDay(event.at);
      this.stats.apply(event);
    }
    return sequenced;
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
      // Any other event naming a ticket (finished, skipped, started ...): the window's `current`
      // is already cleared by then, so the events are the only place that still says which one.
      // (Not for call-next: its answer is the ticket called, `null` when nobody was waiting.)
      if (event.type === 'ticket.called') return this.engine.ticket(event.number);
      if (command.type !== 'call-next' && 'number' in event && typeof event.number === 'string') return this.engine.ticket(event.number);
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
