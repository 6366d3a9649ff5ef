import { EventBus } from '../../src/platform/event-bus.js';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import { answerDeviceRequest, validatedRequest, type DeviceAlarm, type DeviceRequestHandler, type HallBusEvents } from '../../src/device-contract/index.js';
import type { ZodType } from 'zod';
import { GpioBackends } from '../../src/platform/gpio/backend.js';
import type { GpioBackend, GpioBackendName } from '../../src/platform/gpio/gpio.js';

/**
 * The recording half of a DeviceContext for driver tests: availability, published state,
 * alarms and device-topic traffic are kept for assertions, and `deliver` plays an MQTT message
 * arriving on device/<id>/<subtopic>. A device kind's test context adds the hall view and what
 * it does with `submit` and `record`.
 */
/** A debug-level logger whose lines are parsed into `lines`: tests assert on what an operator reads. */
export function recordingLogger(lines: Array<Record<string, unknown>>): Logger {
  return createLogger({
    level: 'debug',
    destination: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });
}

export class RecordingDeviceContext {
  readonly bus = new EventBus<HallBusEvents>();
  readonly availability: Array<{ online: boolean; reason?: string }> = [];
  readonly states: Array<Record<string, unknown>> = [];
  readonly alarms: DeviceAlarm[] = [];
  readonly clearedAlarms: string[] = [];
  readonly published: Array<{ subtopic: string; payload: unknown }> = [];
  /** Every line the driver logged (debug and up), parsed: tests assert on what an operator reads. */
  readonly logLines: Array<Record<string, unknown>> = [];
  private readonly handlers = new Map<string, Set<(payload: unknown, topic: string) => void>>();
  readonly log: Logger;
  private readonly gpioBackends = new GpioBackends();

  constructor(
    readonly deviceId: string,
    log?: Logger,
  ) {
    this.log = log ?? recordingLogger(this.logLines);
  }

  /** The log lines with this message. */
  logged(msg: string): Array<Record<string, unknown>> {
    return this.logLines.filter((line) => line.msg === msg);
  }

  setAvailability(online: boolean, reason?: string): void {
    this.availability.push({ online, reason });
  }

  publishState(state: Record<string, unknown> | (() => Record<string, unknown>)): void {
    this.states.push(typeof state === 'function' ? state() : state);
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

  /** The platform's real GPIO backends: tests put fake gpiod tools on PATH (test/support/fake-gpiod.ts). */
  gpio(name: GpioBackendName): GpioBackend {
    return this.gpioBackends.get(name);
  }

  /** Device requests answer on `<subtopic>/response` in the bridge's envelope (see DeviceContext.handleRequest). */
  handleRequest<T>(subtopic: string, schema: ZodType<T>, handler: DeviceRequestHandler<T>): () => void {
    const handle = validatedRequest(schema, handler);
    return this.subscribe(subtopic, (payload) => {
      void answerDeviceRequest(payload, handle).then((response) => this.publish(`${subtopic}/response`, response));
    });
  }

  /** An MQTT message arriving on device/<id>/<subtopic>. */
  deliver(subtopic: string, payload: unknown): void {
    for (const handler of this.handlers.get(subtopic) ?? []) handler(payload, `device/${this.deviceId}/${subtopic}`);
  }

  online(): boolean | undefined {
    return this.availability.at(-1)?.online;
  }

  lastState(): Record<string, unknown> | undefined {
    return this.states.at(-1);
  }
}
