import { EventBus } from '../../src/platform/event-bus.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';
import type { DeviceAlarm, DeviceContext, HallBusEvents, HallView } from '../../src/device-contract/index.js';

/**
 * A DeviceContext for driver tests without a daemon: a real EventBus, recorded state,
 * availability and alarms, and device-topic publish/subscribe supplied by the test (a real
 * broker in the MQTT tests).
 */
export interface RecordingContext extends DeviceContext {
  readonly states: Array<Record<string, unknown>>;
  readonly availability: Array<{ online: boolean; reason?: string }>;
  readonly alarms: Map<string, DeviceAlarm>;
}

export function recordingContext(options: {
  deviceId?: string;
  log?: Logger;
  publish?: DeviceContext['publish'];
  subscribe?: DeviceContext['subscribe'];
}): RecordingContext {
  const log = options.log ?? silentLogger();
  const states: Array<Record<string, unknown>> = [];
  const availability: Array<{ online: boolean; reason?: string }> = [];
  const alarms = new Map<string, DeviceAlarm>();
  const unsupported = (what: string) => (): never => {
    throw new Error(`${what} is not available in the voice caller test context`);
  };
  // The voice caller reads only the clock from the hall view.
  const hall = { now: () => Date.now() } as unknown as HallView;
  return {
    deviceId: options.deviceId ?? 'voice-1',
    log,
    hall,
    bus: new EventBus<HallBusEvents>(log),
    submit: unsupported('submit'),
    record: unsupported('record'),
    setAvailability: (online, reason) => availability.push({ online, ...(reason !== undefined ? { reason } : {}) }),
    publishState: (state) => states.push(typeof state === 'function' ? state() : state),
    raiseAlarm: (alarm) => alarms.set(alarm.code, alarm),
    clearAlarm: (code) => alarms.delete(code),
    publish: options.publish ?? (() => {}),
    subscribe: options.subscribe ?? (() => () => {}),
    handleRequest: () => () => {},
    gpio: unsupported('gpio'),
    states,
    availability,
    alarms,
  };
}
