import type { DeviceAlarm, DeviceContext, HallBusEvents, HallView } from '../../src/hall/device-api.js';
import { EventBus } from '../../src/platform/event-bus.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';
import type { HallEvent, SequencedEvent } from '../../src/queue/events.js';
import type { QueueModel } from '../../src/queue/model.js';
import type { Ticket, WindowState } from '../../src/queue/ticket.js';

/**
 * Test doubles for the LED driver's tests: a HallView over data the test sets directly, and a
 * DeviceContext that records what the driver did. The bus is the real EventBus.
 */

export class FixedHall implements HallView {
  readonly windows = new Map<string, WindowState>();
  readonly tickets = new Map<string, Ticket>();
  readonly waitingBy = new Map<string, Ticket[]>();
  calls: Array<{ number: string; windowId: string; windowNumber: number; at: number }> = [];
  served = 0;

  constructor(readonly model: QueueModel) {
    for (const w of model.windows) this.windows.set(w.id, { id: w.id, status: 'closed', priorityStreak: 0 });
  }

  window(windowId: string): WindowState | undefined {
    return this.windows.get(windowId);
  }
  ticket(number: string): Ticket | undefined {
    return this.tickets.get(number);
  }
  waiting(serviceId: string): Ticket[] {
    return this.waitingBy.get(serviceId) ?? [];
  }
  servedToday(): number {
    return this.served;
  }
  recentCalls(limit: number): Array<{ number: string; windowId: string; windowNumber: number; at: number }> {
    return this.calls.slice(0, limit);
  }
  estimatedWaitMinutes(): number {
    return 0;
  }
  now(): number {
    return Date.now();
  }
}

/** A hall event without the fields the journal stamps (distributes over the union). */
export type HallEventInput = HallEvent extends infer E ? (E extends HallEvent ? Omit<E, 'at' | 'day'> : never) : never;

export class RecordingContext implements DeviceContext {
  readonly bus = new EventBus<HallBusEvents>();
  readonly availability: Array<{ online: boolean; reason?: string }> = [];
  readonly states: Array<Record<string, unknown>> = [];
  readonly alarms: DeviceAlarm[] = [];
  readonly clearedAlarms: string[] = [];
  private seq = 0;

  constructor(
    readonly hall: HallView,
    readonly deviceId = 'led-line-1',
    readonly log: Logger = silentLogger(),
  ) {}

  /** Publishes a hall event on the bus as the hall would after journaling it. */
  emitEvent(event: HallEventInput): void {
    const at = Date.now();
    this.bus.emit('event', { ...event, at, day: '2026-11-23', seq: ++this.seq } as SequencedEvent);
  }

  submit(): never {
    throw new Error('LED displays submit no commands');
  }
  record(): never {
    throw new Error('LED displays record no events');
  }
  setAvailability(online: boolean, reason?: string): void {
    this.availability.push({ online, reason });
  }
  publishState(state: Record<string, unknown>): void {
    this.states.push(state);
  }
  raiseAlarm(alarm: DeviceAlarm): void {
    this.alarms.push(alarm);
  }
  clearAlarm(code: string): void {
    this.clearedAlarms.push(code);
  }
  publish(): void {}
  subscribe(): () => void {
    return () => undefined;
  }
  online(): boolean | undefined {
    return this.availability.at(-1)?.online;
  }
}

/** Polls until `check` returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
