import type { DeviceContext, HallView, HallEvent, SequencedEvent, QueueModel, Ticket, WindowState } from '../../src/device-contract/index.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';
import { RecordingDeviceContext } from '../../test/support/recording-context.js';
import { eventually as poll } from '../../test/support/eventually.js';

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
  waitingCount(serviceId: string): number {
    return this.waiting(serviceId).length;
  }
  waitingCountForWindow(windowId: string): number {
    const def = this.model.windows.find((w) => w.id === windowId);
    return (def?.skills ?? []).reduce((sum, skill) => sum + this.waitingCount(skill.serviceId), 0);
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

export class RecordingContext extends RecordingDeviceContext implements DeviceContext {
  private seq = 0;

  constructor(
    readonly hall: HallView,
    deviceId = 'led-line-1',
    log?: Logger,
  ) {
    super(deviceId, log);
  }

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
}

/** Polls until `check` returns a truthy value or the deadline passes. */
export function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  return poll(check, what, timeoutMs, 10);
}
