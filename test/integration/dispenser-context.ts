import { GpioBackends } from '../../src/platform/gpio/backend.js';
import type { GpioBackend, GpioBackendName } from '../../src/platform/gpio/gpio.js';
import { EventBus } from '../../src/platform/event-bus.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';
import { QueueEngine } from '../../src/queue/engine.js';
import { QueueError, type QueueCommand } from '../../src/queue/commands.js';
import type { HallEvent, SequencedEvent } from '../../src/queue/events.js';
import type { QueueModel } from '../../src/queue/model.js';
import { answerDeviceRequest, validatedRequest, type CommandResult, type DeviceAlarm, type DeviceContext, type DeviceRequestHandler, type HallBusEvents, type HallView } from '../../src/device-contract/index.js';
import type { ZodType } from 'zod';
import { eventually } from '../support/eventually.js';

/**
 * A hall for dispenser tests: the real queue engine with an in-memory "journal" (the list of
 * committed events), and one recording DeviceContext per device.
 */
export class FakeHall {
  readonly engine: QueueEngine;
  readonly journal: SequencedEvent[] = [];
  readonly bus = new EventBus<HallBusEvents>();
  now: number;
  readonly view: HallView;

  constructor(model: QueueModel, start: number) {
    this.engine = new QueueEngine(model);
    this.now = start;
    const engine = this.engine;
    this.view = {
      model,
      window: (id) => engine.windowState(id),
      ticket: (number) => engine.ticket(number),
      waiting: (serviceId) => engine.waiting(serviceId),
      waitingCount: (serviceId) => engine.waitingCount(serviceId),
      waitingCountForWindow: (windowId) => engine.waitingCountForWindow(windowId),
      servedToday: () => engine.servedToday(),
      recentCalls: (limit) => engine.recentCalls(limit),
      estimatedWaitMinutes: (serviceId) => engine.waiting(serviceId).length * (model.services.find((s) => s.id === serviceId)?.averageHandlingMinutes ?? 5),
      now: () => this.now,
    };
  }

  execute(command: QueueCommand): CommandResult {
    const committed: SequencedEvent[] = [];
    try {
      this.engine.run(command, this.now, (events: HallEvent[]) => {
        for (const event of events) {
          const sequenced = { ...event, seq: this.journal.length + 1 } as SequencedEvent;
          this.journal.push(sequenced);
          committed.push(sequenced);
        }
      });
    } catch (err) {
      if (err instanceof QueueError) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
    const issued = committed.find((e) => e.type === 'ticket.issued');
    const number = issued && issued.type === 'ticket.issued' ? issued.ticket.number : 'number' in command ? command.number : undefined;
    const ticket = number ? this.engine.ticket(number) : undefined;
    return { ok: true, events: committed, ticket };
  }

  context(deviceId: string, log?: Logger): FakeContext {
    return new FakeContext(deviceId, this, log);
  }
}

export class FakeContext implements DeviceContext {
  readonly states: Array<Record<string, unknown>> = [];
  readonly alarms = new Map<string, DeviceAlarm>();
  readonly alarmLog: string[] = [];
  readonly published: Array<{ subtopic: string; payload: unknown }> = [];
  readonly availability: boolean[] = [];
  private readonly handlers = new Map<string, Set<(payload: unknown, topic: string) => void>>();
  private readonly gpioBackends = new GpioBackends();

  constructor(
    readonly deviceId: string,
    private readonly hallRef: FakeHall,
    readonly log: Logger = silentLogger(),
  ) {}

  get hall(): HallView {
    return this.hallRef.view;
  }
  get bus(): EventBus<HallBusEvents> {
    return this.hallRef.bus;
  }
  async submit(command: QueueCommand): Promise<CommandResult> {
    return this.hallRef.execute(command);
  }
  async record(): Promise<SequencedEvent> {
    throw new Error('not used by the dispenser');
  }
  setAvailability(online: boolean): void {
    this.availability.push(online);
  }
  publishState(state: Record<string, unknown> | (() => Record<string, unknown>)): void {
    this.states.push(typeof state === 'function' ? state() : state);
  }
  raiseAlarm(alarm: DeviceAlarm): void {
    if (!this.alarms.has(alarm.code)) this.alarmLog.push(`raise ${alarm.code}`);
    this.alarms.set(alarm.code, alarm);
  }
  clearAlarm(code: string): void {
    if (this.alarms.delete(code)) this.alarmLog.push(`clear ${code}`);
  }
  publish(subtopic: string, payload: unknown): void {
    this.published.push({ subtopic, payload });
  }
  subscribe(subtopic: string, handler: (payload: unknown, topic: string) => void): () => void {
    let set = this.handlers.get(subtopic);
    if (!set) this.handlers.set(subtopic, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }
  handleRequest<T>(subtopic: string, schema: ZodType<T>, handler: DeviceRequestHandler<T>): () => void {
    const handle = validatedRequest(schema, handler);
    return this.subscribe(subtopic, (payload) => {
      void answerDeviceRequest(payload, handle).then((response) => this.publish(`${subtopic}/response`, response));
    });
  }
  /** The platform's real GPIO backends (tests put fake gpiod tools on PATH). */
  gpio(name: GpioBackendName): GpioBackend {
    return this.gpioBackends.get(name);
  }
  /** What an MQTT message on device/<id>/<subtopic> would do. */
  deliver(subtopic: string, payload: unknown): void {
    for (const handler of this.handlers.get(subtopic) ?? []) handler(payload, `device/${this.deviceId}/${subtopic}`);
  }
  lastState(): Record<string, unknown> | undefined {
    return this.states.at(-1);
  }
  waitForPublished(subtopic: string, count = 1): Promise<unknown[]> {
    return eventually(() => {
      const found = this.published.filter((p) => p.subtopic === subtopic).map((p) => p.payload);
      return found.length >= count && found;
    }, `${count} message(s) on ${subtopic}`);
  }
}
