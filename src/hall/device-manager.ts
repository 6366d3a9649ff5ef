import type { Logger } from '../platform/logger.js';
import type { MqttBridge } from '../bus/bridge.js';
import type { Hall } from './hall.js';
import { alarmSpecMatches, validatedRequest, type DeviceAlarm, type DeviceContext, type DeviceDriver, type DeviceKind, type LazyDeviceKind } from '../device-contract/index.js';
import { AlarmBoard, type AlarmEntry } from './alarm-board.js';
import { GpioBackends } from '../platform/gpio/backend.js';

export interface DeviceManagerOptions {
  /** Where alarms are kept across restarts (next to the journal); none in tests that do not care. */
  alarmFile?: string;
  /** How long a cleared alarm stays shown unless acknowledged (see alarm-board.ts). */
  alarmMinVisibleMs?: number;
  restoredAlarmGraceMs?: number;
  /** Where a kiosk's `issue` contact goes (src/notify); absent when the hall sends no notices. */
  attachContact?: (number: string, contact: string) => void;
}

export interface DeviceConfigEntry {
  id: string;
  kind: string;
  window?: string;
  options?: unknown;
}

/**
 * A busy bus (32 pads, 33 displays) changes its state many times a second; dashboards need it a
 * few times a second. The first change after a quiet spell goes out at once, later ones are
 * folded into one trailing publish of the latest state.
 */
const STATE_PUBLISH_INTERVAL_MS = 250;

interface DeviceRecord {
  driver: DeviceDriver;
  statePublishedAt?: number;
  pendingState?: Record<string, unknown> | (() => Record<string, unknown>);
  stateTimer?: NodeJS.Timeout;
  kind: string;
  window?: string;
  online: boolean;
}

/** An alarm while it lasts; an operator's acknowledgement stays until the device clears it. */
export type ActiveAlarm = DeviceAlarm & { since: number; acknowledgedBy?: string; acknowledgedAt?: number };

/**
 * Alarms the hall raises about itself rather than a device (the journal's: a recorded loss, a
 * damaged watermark). They are listed in `alarms` beside the devices' under their own
 * `deviceId`, and `alarm-ack` for that id goes to the source, which may refuse (RequestError).
 */
export interface AlarmSource {
  deviceId: string;
  alarms(): ActiveAlarm[];
  acknowledge(code: string, by: string): ActiveAlarm | undefined;
}

/**
 * Builds the configured device drivers and gives each its DeviceContext: the only door a
 * driver has to the hall, the journal and MQTT. A driver that fails to start is logged and
 * reported offline; it does not stop the daemon or the other devices.
 */
export class DeviceManager {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly alarmSources = new Map<string, AlarmSource>();
  private readonly otherAlarmSources = new Set<string>();
  private readonly alarms: AlarmBoard;
  /** One GPIO backend of each name for all devices, made when a driver first asks for it. */
  private readonly gpioBackends: GpioBackends;
  private stopping = false;
  private readonly attachContact: DeviceManagerOptions['attachContact'];

  constructor(
    private readonly hall: Hall,
    private readonly bridge: MqttBridge,
    private readonly kinds: ReadonlyMap<string, DeviceKind<unknown> | LazyDeviceKind<unknown>>,
    private readonly log: Logger,
    options: DeviceManagerOptions = {},
  ) {
    this.attachContact = options.attachContact;
    this.gpioBackends = new GpioBackends(log);
    this.alarms = new AlarmBoard({
      now: () => hall.now(),
      log,
      journal: (event) => this.journalQuietly(event),
      publish: () => this.publishAlarms(),
      spec: (deviceId, code) => {
        const record = this.devices.get(deviceId);
        if (!record) return undefined;
        return this.kinds.get(record.kind)?.alarms.find((spec) => alarmSpecMatches(spec, code));
      },
      file: options.alarmFile,
      minVisibleMs: options.alarmMinVisibleMs,
      restoredGraceMs: options.restoredAlarmGraceMs,
    });
  }

  async create(entries: DeviceConfigEntry[]): Promise<void> {
    for (const entry of entries) {
      const listed = this.kinds.get(entry.kind);
      if (!listed) throw new Error(`devices: unknown device kind "${entry.kind}" for ${entry.id}`);
      const options = listed.options.parse(entry.options ?? {});
      // The driver module is imported only now, for a kind that is configured (see LazyDeviceKind).
      const kind = 'load' in listed ? await listed.load() : listed;
      const record: DeviceRecord = { driver: undefined as unknown as DeviceDriver, kind: entry.kind, window: entry.window, online: false };
      this.devices.set(entry.id, record);
      record.driver = kind.create(entry.id, options, this.context(entry, record));
    }
    // After the devices exist (a restored alarm's catalog entry is its device kind's), before they start.
    this.alarms.restore();
  }

  async startAll(): Promise<void> {
    await Promise.all(
      [...this.devices.entries()].map(async ([id, record]) => {
        try {
          await record.driver.start();
          this.log.info({ device: id, kind: record.kind }, 'device started');
        } catch (err) {
          this.log.error({ err, device: id, kind: record.kind }, 'device failed to start; it stays offline');
          this.publishAvailability(id, record, false, `start failed: ${(err as Error).message}`);
        }
      }),
    );
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    this.alarms.stop();
    await Promise.all(
      [...this.devices.entries()].map(async ([id, record]) => {
        if (record.stateTimer) clearTimeout(record.stateTimer);
        try {
          await record.driver.stop();
        } catch (err) {
          this.log.warn({ err, device: id }, 'device did not stop cleanly');
        }
      }),
    );
  }

  driver<T extends DeviceDriver>(id: string): T | undefined {
    return this.devices.get(id)?.driver as T | undefined;
  }

  drivers(): DeviceDriver[] {
    return [...this.devices.values()].map((record) => record.driver);
  }

  summary(): Array<{ id: string; kind: string; window: string | null; online: boolean; alarms: string[] }> {
    return [...this.devices.entries()].map(([id, record]) => ({
      id,
      kind: record.kind,
      window: record.window ?? null,
      online: record.online,
      alarms: this.alarms.activeCodes(id),
    }));
  }

  /**
   * An operator has seen the alarm: journaled, and shown to every dashboard. An active one stays
   * (the device has not recovered); one already cleared leaves the list.
   */
  acknowledgeAlarm(deviceId: string, code: string, by: string): ActiveAlarm | undefined {
    const source = this.alarmSources.get(deviceId);
    if (source) {
      const acknowledged = source.acknowledge(code, by);
      if (acknowledged) this.publishAlarms();
      return acknowledged;
    }
    return this.alarms.acknowledge(deviceId, code, by);
  }

  /** What `alarms` shows: active alarms, cleared ones not yet acknowledged or shown long enough, and the hall's own. */
  activeAlarms(): Array<ActiveAlarm & { deviceId: string; state?: AlarmEntry['state'] }> {
    const hall = [...this.alarmSources.values()].flatMap((source) => source.alarms().map((alarm) => ({ ...alarm, deviceId: source.deviceId, state: 'active' as const })));
    return [...this.alarms.list(), ...hall];
  }

  /** An alarm source with its own acknowledgement rules (the journal's: admin only, clears it). */
  addAlarmSource(source: AlarmSource): void {
    this.alarmSources.set(source.deviceId, source);
  }

  /**
   * Alarms of a part of the daemon that is not a device (the uplink): the same lifecycle,
   * journal entries and `alarms` document as a device's, under `sourceId`.
   */
  alarmsFor(sourceId: string): { raise(alarm: DeviceAlarm): void; clear(code: string): void } {
    if (this.devices.has(sourceId) || this.otherAlarmSources.has(sourceId) || this.alarmSources.has(sourceId)) throw new Error(`alarm source "${sourceId}" is already defined`);
    this.otherAlarmSources.add(sourceId);
    return { raise: (alarm) => this.alarms.raise(sourceId, alarm), clear: (code) => this.alarms.clear(sourceId, code) };
  }

  private context(entry: DeviceConfigEntry, record: DeviceRecord): DeviceContext {
    const hall = this.hall;
    const bridge = this.bridge;
    const deviceId = entry.id;
    const log = this.log.child(entry.window ? { device: deviceId, window: entry.window } : { device: deviceId });
    return {
      deviceId,
      log,
      hall: hall.view,
      bus: hall.bus,
      submit: (command, remember) => hall.submit(command, remember),
      storedOutcome: (id) => hall.storedOutcome(id),
      rememberOutcome: (id, request, outcome) => hall.rememberOutcome(id, request, outcome),
      record: async (event) => hall.record({ ...event, deviceId } as Parameters<Hall['record']>[0]),
      setAvailability: (online, reason) => this.publishAvailability(deviceId, record, online, reason),
      publishState: (state) => this.publishStateThrottled(deviceId, record, state),
      raiseAlarm: (alarm) => this.alarms.raise(deviceId, alarm),
      clearAlarm: (code) => this.alarms.clear(deviceId, code),
      publish: (subtopic, payload, options) => bridge.publish(`device/${deviceId}/${subtopic}`, payload, { retain: options?.retain === true }),
      subscribe: (subtopic, handler) => bridge.subscribeDevice(deviceId, subtopic, handler),
      handleRequest: (subtopic, schema, handler) => bridge.serveDeviceRequests(deviceId, subtopic, validatedRequest(schema, handler)),
      ...(this.attachContact ? { attachContact: this.attachContact } : {}),
      gpio: (name) => this.gpioBackends.get(name),
    };
  }

  private publishStateThrottled(deviceId: string, record: DeviceRecord, state: Record<string, unknown> | (() => Record<string, unknown>)): void {
    record.pendingState = state;
    if (record.stateTimer) return;
    const flush = () => {
      record.stateTimer = undefined;
      const pending = record.pendingState;
      if (!pending) return;
      record.pendingState = undefined;
      record.statePublishedAt = Date.now();
      let built: Record<string, unknown>;
      try {
        built = typeof pending === 'function' ? pending() : pending;
      } catch (err) {
        this.log.warn({ err, device: deviceId }, 'could not build the device state');
        return;
      }
      this.bridge.publishRetained(`device/${deviceId}`, { ...built, updatedAt: this.hall.now() });
    };
    const since = Date.now() - (record.statePublishedAt ?? 0);
    if (since >= STATE_PUBLISH_INTERVAL_MS) flush();
    else {
      record.stateTimer = setTimeout(flush, STATE_PUBLISH_INTERVAL_MS - since);
      record.stateTimer.unref();
    }
  }

  private publishAvailability(deviceId: string, record: DeviceRecord, online: boolean, reason?: string): void {
    if (record.online !== online) {
      if (online) this.log.info({ device: deviceId }, 'device online');
      // Going offline because the daemon is stopping is expected, not a fault.
      else this.log[this.stopping ? 'info' : 'warn']({ device: deviceId, reason }, 'device offline');
    }
    record.online = online;
    this.bridge.publishRetained(`device/${deviceId}/availability`, { state: online ? 'online' : 'offline', reason: reason ?? null, at: this.hall.now() });
  }

  /**
   * Alarms are journaled for the record, but a journal that cannot be written (a full or failing
   * disk) must not stop the alarm itself from reaching the operators: that is when they need it.
   */
  private journalQuietly(event: Parameters<Hall['record']>[0]): void {
    try {
      this.hall.record(event);
    } catch (err) {
      this.log.error({ err, device: event.deviceId, event: event.type }, 'could not journal a device alarm event');
    }
  }

  /** Retained `alarms`: every alarm shown in the hall, for the dashboard to acknowledge. */
  publishAlarms(): void {
    this.bridge.publishRetained('alarms', { alarms: this.activeAlarms() });
  }
}
