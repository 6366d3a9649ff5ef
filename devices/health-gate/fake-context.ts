import type { DeviceAlarm, DeviceContext, HallView } from '../../src/hall/device-api.js';
import { EventBus } from '../../src/platform/event-bus.js';
import type { HallBusEvents } from '../../src/hall/device-api.js';
import type { SequencedEvent } from '../../src/queue/events.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';

/**
 * A DeviceContext that records what a driver does, for the gate's tests: journaled events,
 * alarms, availability, published state and MQTT traffic under device/<id>/.
 */
export class RecordingContext implements DeviceContext {
  readonly records: Array<{ type: string; data: Record<string, unknown> }> = [];
  readonly alarms: DeviceAlarm[] = [];
  readonly clearedAlarms: string[] = [];
  readonly availability: Array<{ online: boolean; reason?: string }> = [];
  readonly states: Array<Record<string, unknown>> = [];
  readonly published: Array<{ subtopic: string; payload: unknown }> = [];
  readonly bus = new EventBus<HallBusEvents>();
  private readonly handlers = new Map<string, Set<(payload: unknown, topic: string) => void>>();
  private seq = 0;

  constructor(
    readonly deviceId = 'gate-1',
    readonly log: Logger = silentLogger(),
  ) {}

  readonly hall = { now: () => Date.now() } as unknown as HallView; // the gate reads only the clock

  submit(): never {
    throw new Error('the health gate submits no queue commands');
  }

  async record(event: { type: `device.${string}`; data: Record<string, unknown> }): Promise<SequencedEvent> {
    this.records.push({ type: event.type, data: event.data });
    const at = Date.now();
    return { ...event, at, day: new Date(at).toISOString().slice(0, 10), deviceId: this.deviceId, seq: ++this.seq };
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

  publish(subtopic: string, payload: unknown): void {
    this.published.push({ subtopic, payload });
  }

  subscribe(subtopic: string, handler: (payload: unknown, topic: string) => void): () => void {
    const set = this.handlers.get(subtopic) ?? new Set();
    set.add(handler);
    this.handlers.set(subtopic, set);
    return () => set.delete(handler);
  }

  /** An MQTT message arriving on device/<id>/<subtopic>. */
  deliver(subtopic: string, payload: unknown): void {
    for (const handler of this.handlers.get(subtopic) ?? []) handler(payload, `device/${this.deviceId}/${subtopic}`);
  }

  decisions(): Array<Record<string, unknown>> {
    return this.records.filter((r) => r.type === 'device.gate.decision').map((r) => r.data);
  }

  online(): boolean | undefined {
    return this.availability.at(-1)?.online;
  }

  lastState(): Record<string, unknown> | undefined {
    return this.states.at(-1);
  }
}

/** Polls until `check` returns a value (not undefined/false) or the deadline passes. */
export async function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
