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
import type { CommandResult, HallBusEvents, HallView, RememberedRequest, RequestIdentity } from '../device-contract/index.js';
import { OutputDispatcher, type StageCounters, type StageName } from './dispatcher.js';

/**
 * The size of a group commit adapts to the load. The first group after a quiet moment takes at
 * most FIRST_GROUP_COMMANDS: 32 windows pressing at once do not all wait for the 32nd, the first
 * answers, frames and events leave after 16 commands and one fsync. While the pressure lasts
 * (a group came out full and more commands are waiting), each next group may take twice as many,
 * up to MAX_GROUP_COMMANDS: under sustained load every command waits behind earlier groups
 * anyway, and one fsync per 16 commands would make the fsync the ceiling of the hall's
 * throughput (a 2 ms fsync alone caps it at 8,000 commands a second of pure waiting).
 */
export const FIRST_GROUP_COMMANDS = 16;
export const MAX_GROUP_COMMANDS = 128;

type Pending =
  | { kind: 'command'; command: QueueCommand; remember?: RememberedRequest; submittedAt: number; resolve: (result: CommandResult) => void }
  | { kind: 'task'; run: () => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void };

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
  readonly bus: EventBus<HallBusEvents>;
  readonly view: HallView;
  /** Set by the daemon when it serves the phone ticket page (src/visitors). */
  ticketPageUrl: ((day: string, number: string) => string | undefined) | undefined;
  /** Answers of requests already executed today, kept in the journal file (request-outcomes.ts). */
  readonly outcomes: RequestOutcomes;
  /** The stages after a commit (frames, MQTT, voice, state documents, log), each guarded. */
  readonly dispatcher: OutputDispatcher;
  private queueEngine: QueueEngine;
  private stats: StatsAccumulator;
  private readonly journal: Journal;
  private readonly log: Logger;
  private readonly clock: () => number;
  private commandsRun = 0;
  private commandsRefused = 0;
  /** Time inside `execute` per command type (journal, state, and every listener), ms. */
  private readonly executeLatency = new Map<string, LatencyWindow>();
  private readonly commitLatency = new LatencyWindow();
  /** From `submit` to the command's outputs dispatched: the daemon's own part of a key press. */
  private readonly submitLatency = new Map<string, LatencyWindow>();
  private readonly groupSizes = new LatencyWindow(256);
  private readonly pending: Pending[] = [];
  private flushScheduled = false;
  private outputsPending: (() => Promise<void> | undefined) | undefined;
  /** The last group's outputs after its frames, its answers and the tasks behind it, until they have run (see flush). */
  private afterFrames: (() => void) | undefined;
  private groupCommits = 0;
  /** How many commands the next group may take (see FIRST_GROUP_COMMANDS). */
  private groupCap = FIRST_GROUP_COMMANDS;
  private groupCommitFailures = 0;

  constructor(options: HallOptions) {
    this.queueEngine = new QueueEngine(options.model);
    this.journal = options.journal;
    this.outcomes = options.journal.attach((db) => new RequestOutcomes(db));
    this.log = options.log;
    this.clock = options.now ?? Date.now;
    this.bus = new EventBus<HallBusEvents>(options.log);
    this.stats = new StatsAccumulator(options.model);
    this.view = this.makeView();
    this.dispatcher = new OutputDispatcher(options.log);
    this.dispatcher.on('frames', (events) => {
      let failed = 0;
      for (const event of events) failed += this.bus.emit('event', event);
      failed += this.bus.emit('committed', events);
      if (failed > 0) this.dispatcher.failed('frames', undefined, failed);
    });
    this.dispatcher.on('voice', (events) => this.announceCalls(events));
    this.dispatcher.on('log', (events) => {
      for (const event of events) this.logEvent(event);
    });
  }

  /** The queue state machine (replaced only when a failed group commit forces a rebuild from the journal). */
  get engine(): QueueEngine {
    return this.queueEngine;
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
   * Runs one queue command now, in a journal transaction of its own: journal, state, then every
   * output stage. Never throws for a refusal. Requests and key presses go through `submit`.
   */
  execute(command: QueueCommand, remember?: RememberedRequest): CommandResult {
    this.finishGroupOutputs();
    const { result, committed } = this.run(command, false, remember);
    if (result.ok && result.outcomeStored) afterRequestCommitted();
    // Housekeeping events may have been committed even when the command itself was refused.
    this.publish(committed);
    return result;
  }

  /**
   * Runs a queue command in arrival order with the others submitted in the same event-loop turn,
   * all committed in ONE journal transaction (one fsync); then each command's outputs go out in
   * command order and its promise resolves. The semantics are `execute`'s, one command at a time.
   */
  submit(command: QueueCommand, remember?: RememberedRequest): Promise<CommandResult> {
    return new Promise((resolve) => {
      this.pending.push({ kind: 'command', command, ...(remember ? { remember } : {}), submittedAt: performance.now(), resolve });
      this.scheduleFlush();
    });
  }

  /**
   * Runs `task` after every command submitted before it has been committed and its outputs sent
   * (a query after an `issue` sees the ticket), and before any submitted after it.
   */
  inOrder<T>(task: () => T): Promise<Awaited<T>> {
    return new Promise<Awaited<T>>((resolve, reject) => {
      this.pending.push({ kind: 'task', run: task, resolve: resolve as (value: unknown) => void, reject });
      this.scheduleFlush();
    });
  }

  /** Journals a device event (gate decision, printer fault ...) and puts it on the bus. */
  record(event: Omit<Extract<HallEvent, { type: `device.${string}` }>, 'at' | 'day'>): SequencedEvent {
    this.finishGroupOutputs();
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

  counters(): {
    commandsRun: number;
    commandsRefused: number;
    listenerFailures: number;
    groupCommits: number;
    groupCommitFailures: number;
    stages: Record<StageName, StageCounters>;
  } {
    return {
      commandsRun: this.commandsRun,
      commandsRefused: this.commandsRefused,
      listenerFailures: this.bus.listenerFailures,
      groupCommits: this.groupCommits,
      groupCommitFailures: this.groupCommitFailures,
      stages: this.dispatcher.health(),
    };
  }

  /**
   * Where a command's time goes on this box (monotonic clock): the command's own work per type,
   * the journal commit (a whole group's fsync for submitted commands), submit → outputs sent per
   * type (queueing for the group and the group's commit included), and commands per group.
   */
  latency(): {
    executeMs: Record<string, ReturnType<LatencyWindow['summary']>>;
    journalCommitMs: ReturnType<LatencyWindow['summary']>;
    submitToOutputMs: Record<string, ReturnType<LatencyWindow['summary']>>;
    groupSize: ReturnType<LatencyWindow['summary']>;
  } {
    return {
      executeMs: Object.fromEntries([...this.executeLatency].map(([type, window]) => [type, window.summary()])),
      journalCommitMs: this.commitLatency.summary(),
      submitToOutputMs: Object.fromEntries([...this.submitLatency].map(([type, window]) => [type, window.summary()])),
      groupSize: this.groupSizes.summary(),
    };
  }

  // ---------------------------------------------------------------- internals

  /** One command through the engine, its events appended (durable unless inside a group commit). */
  /**
   * With `remember`, the request's answer is journaled in the same transaction as the command's
   * events (`outcomeStored` then says so; a refusal or a command without events is the caller's
   * to store, see the MQTT API).
   */
  private run(command: QueueCommand, inGroup = false, remember?: RememberedRequest): { result: CommandResult; committed: SequencedEvent[] } {
    const started = performance.now();
    const now = this.clock();
    const committed: SequencedEvent[] = [];
    let result: CommandResult;
    try {
      let outcomeStored = false;
      this.engine.run(command, now, (events, phase) => {
        const withOutcome = phase === 'command' ? remember : undefined;
        committed.push(...this.commit(events, inGroup, withOutcome, now));
        if (withOutcome) outcomeStored = true;
      });
      this.commandsRun += 1;
      result = { ok: true, events: committed, ticket: this.ticketConcerned(command, committed), ...(outcomeStored ? { outcomeStored: true as const } : {}) };
    } catch (err) {
      if (err instanceof QueueError) {
        this.commandsRefused += 1;
        this.log.info({ command: command.type, code: err.code, window: windowOf(command) }, err.message);
        result = { ok: false, code: err.code, message: err.message, ...(this.storeRefusal(remember, err, now) ? { outcomeStored: true as const } : {}) };
      } else {
        this.log.error({ err, command: command.type }, 'command failed');
        result = { ok: false, code: 'internal', message: `the command could not be carried out: ${(err as Error).message}` };
      }
    }
    timed(this.executeLatency, command.type, performance.now() - started);
    return { result, committed };
  }

  /**
   * The outputs the next group must wait for: undefined when all are out, or a promise for when
   * they are. The MQTT API hands in its bridge's, so a burst's first answers leave before the
   * next group runs (and while they leave, the next group gathers what arrives).
   */
  waitForOutputs(pending: () => Promise<void> | undefined): void {
    this.outputsPending = pending;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the I/O of this turn: every request and key press that arrived in it joins the group.
    setImmediate(() => {
      let outputs: Promise<void> | undefined;
      try {
        outputs = this.outputsPending?.();
      } catch (err) {
        // Outside any caller's try/catch: a bug in the bridge's answer chain must not end the
        // daemon, and the group still runs (it only waited for answers to leave first).
        this.dispatcher.failed('mqtt', err);
      }
      if (outputs) void outputs.then(() => this.flushNow(), () => this.flushNow());
      else this.flushNow();
    });
  }

  private flushNow(): void {
    this.flushScheduled = false;
    try {
      this.flush();
    } catch (err) {
      // flush() answers its own failures; this is a bug in it, and must not end the daemon.
      this.dispatcher.failed('journal', err);
    }
    if (this.pending.length > 0) this.scheduleFlush();
  }

  /**
   * Tasks in order until the next group, then one group of commands (one transaction), their
   * outputs, and the tasks right after it. Further groups wait for the next turn, so this
   * group's answers and frames reach their sockets and serial lines first.
   */
  private flush(): void {
    this.finishGroupOutputs();
    this.runTasks();
    const group: Array<Extract<Pending, { kind: 'command' }>> = [];
    while (group.length < this.groupCap && this.pending[0]?.kind === 'command') group.push(this.pending.shift() as Extract<Pending, { kind: 'command' }>);
    if (group.length === 0) return;
    // Full and more waiting: the pressure lasts, the next group may be larger. Otherwise back to the first size.
    this.groupCap = group.length === this.groupCap && this.pending.length > 0 ? Math.min(MAX_GROUP_COMMANDS, this.groupCap * 2) : FIRST_GROUP_COMMANDS;

    const outcomes: Array<{ result: CommandResult; committed: SequencedEvent[] }> = [];
    const started = performance.now();
    try {
      this.journal.batch(() => {
        for (const item of group) outcomes.push(this.run(item.command, true, item.remember));
      });
    } catch (err) {
      this.groupFailed(group, err);
      this.runTasks();
      return;
    }
    this.commitLatency.record(performance.now() - started);
    this.groupSizes.record(group.length);
    this.groupCommits += 1;
    // Durable now, nothing shown yet: the window the exactly-once test kills the daemon in.
    for (const { result } of outcomes) if (result.ok && result.outcomeStored) afterRequestCommitted();
    // Frames first: every command's LED calls and pad frames are queued, and the drivers' own
    // microtasks put them on the lines, before the MQTT events, state documents, answers and
    // log lines of any command of the group (64 windows calling at once: the last call no longer
    // waits for the others' broker work). Those follow, in command order, in the next turn; each
    // output channel keeps the command order, and anything that would publish in between (a
    // command run by `execute`, a device event, the next group) runs them first.
    for (const { committed } of outcomes) this.dispatcher.dispatchFrames(committed);
    this.afterFrames = () => {
      group.forEach((item, i) => {
        const { result, committed } = outcomes[i]!;
        this.dispatcher.dispatchAfterFrames(committed);
        timed(this.submitLatency, item.command.type, performance.now() - item.submittedAt);
        item.resolve(result);
      });
      this.runTasks();
    };
    setImmediate(() => this.finishGroupOutputs());
  }

  /** Runs the last group's outputs after its frames, if they have not run yet. */
  private finishGroupOutputs(): void {
    const outputs = this.afterFrames;
    if (!outputs) return;
    this.afterFrames = undefined;
    try {
      outputs();
    } catch (err) {
      // The stages are guarded and resolving cannot throw: this is a bug here, and must not end the daemon.
      this.dispatcher.failed('mqtt', err);
    }
  }

  private runTasks(): void {
    while (this.pending[0]?.kind === 'task') {
      const task = this.pending.shift() as Extract<Pending, { kind: 'task' }>;
      try {
        task.resolve(task.run());
      } catch (err) {
        task.reject(err);
      }
    }
  }

  /**
   * The group's transaction did not commit: nothing of it is stored, yet the engine applied its
   * events. Rebuild the queue from the journal (what is durable is the truth) and answer every
   * command of the group with an error; nothing of them was shown.
   */
  private groupFailed(group: Array<Extract<Pending, { kind: 'command' }>>, err: unknown): void {
    this.groupCommitFailures += 1;
    this.dispatcher.failed('journal', err);
    try {
      this.rebuildFromJournal();
    } catch (rebuildErr) {
      this.log.fatal({ err: rebuildErr }, 'the queue could not be rebuilt from the journal after a failed commit');
    }
    const message = `the command could not be stored: ${(err as Error).message}`;
    for (const item of group) item.resolve({ ok: false, code: 'internal', message });
  }

  private rebuildFromJournal(): void {
    this.queueEngine = new QueueEngine(this.queueEngine.model);
    this.stats = new StatsAccumulator(this.queueEngine.model);
    this.replay();
  }

  private commit(events: HallEvent[], inGroup = false, remember?: RememberedRequest, now = this.clock()): SequencedEvent[] {
    const started = performance.now();
    const storeOutcome = remember
      ? (sequenced: readonly SequencedEvent[]) => this.outcomes.write({ ...remember.id, day: sequenced[0]!.day }, remember.request, remember.answer(sequenced), now)
      : undefined;
    const sequenced = this.journal.append(events, storeOutcome);
    // In a group the fsync comes once for the whole group, and is timed there.
    if (!inGroup) this.commitLatency.record(performance.now() - started);
    // Statistics, like the engine, follow each command at once (in a group that later fails to
    // commit, both are rebuilt from the journal).
    for (const event of sequenced) {
      if (event.type === 'day.started') {
        this.closeOutStatsDay(event.at);
        this.pruneOutcomes(event.day);
      }
      this.stats.apply(event);
    }
    return sequenced;
  }

  /** Keeps a refusal as the request's answer (in the group's transaction when in a group); false when it could not. */
  private storeRefusal(remember: RememberedRequest | undefined, err: QueueError, now: number): boolean {
    if (!remember?.refusal) return false;
    try {
      this.outcomes.write({ ...remember.id, day: this.requestDay() }, remember.request, remember.refusal(err.code, err.message), now);
      return true;
    } catch (writeErr) {
      // Left to the caller; a failed statement must not roll back the rest of the group.
      this.log.error({ err: writeErr, request: remember.request }, 'could not store a refused request outcome');
      return false;
    }
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

  /** A command's committed events through every stage after the journal (dispatcher.ts). */
  private publish(events: SequencedEvent[]): void {
    this.dispatcher.dispatch(events);
  }

  private announceCalls(events: readonly SequencedEvent[]): void {
    let failed = 0;
    for (const event of events) {
      if (event.type !== 'ticket.called' && event.type !== 'ticket.recalled') continue;
      const ticket = this.engine.ticket(event.number);
      const window = this.model.windows.find((w) => w.id === event.windowId);
      failed += this.bus.emit('announce', {
        number: event.number,
        windowId: event.windowId,
        windowNumber: window?.number ?? 0,
        serviceId: ticket?.serviceId ?? '',
        recall: event.type === 'ticket.recalled',
        at: event.at,
      });
    }
    if (failed > 0) this.dispatcher.failed('voice', undefined, failed);
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
      ticketPageUrl: (day: string, number: string): string | undefined => hall.ticketPageUrl?.(day, number),
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

function timed(windows: Map<string, LatencyWindow>, type: string, ms: number): void {
  let window = windows.get(type);
  if (!window) windows.set(type, (window = new LatencyWindow(256)));
  window.record(ms);
}

function windowOf(command: QueueCommand): string | undefined {
  return 'windowId' in command ? command.windowId : undefined;
}
