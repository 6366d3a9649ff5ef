import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from '../platform/logger.js';
import type { AlarmSpec, DeviceAlarm } from '../device-contract/index.js';

/**
 * Every alarm in the hall, with its lifecycle (docs/alarms.md):
 *  - raised by a device (or another alarm source such as the uplink), journaled;
 *  - cleared by the device when its condition is over, or by the board when its catalog entry
 *    gives it an expiry (an event alarm such as an entry refused at the gate);
 *  - still *shown* after it cleared until an operator acknowledges it or `minVisibleMs` has
 *    passed since it was raised, so a fault that lasted 2 ms is seen (state `cleared`);
 *  - kept in a file next to the journal and restored after a restart; a restored alarm that
 *    its device does not raise again within `restoredGraceMs` of the start is cleared then.
 */
export interface AlarmEntry extends DeviceAlarm {
  deviceId: string;
  /** When it was raised (kept when the same alarm is raised again while active). */
  since: number;
  state: 'active' | 'cleared';
  clearedAt?: number;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  /** Restored from before a restart and not raised again since. */
  restored?: true;
  expiresAt?: number;
}

export type AlarmJournalEvent =
  | { type: 'device.alarm.raised'; deviceId: string; data: DeviceAlarm & Record<string, unknown> }
  | { type: 'device.alarm.cleared'; deviceId: string; data: { code: string; reason?: string } }
  | { type: 'device.alarm.acknowledged'; deviceId: string; data: { code: string; by: string } };

export interface AlarmBoardOptions {
  now: () => number;
  log: Logger;
  journal: (event: AlarmJournalEvent) => void;
  /** Called after every change with what `alarms` should now show. */
  publish: (alarms: AlarmEntry[]) => void;
  /** The catalog entry of a source's alarm code, when it has one (expiry, documentation). */
  spec?: (deviceId: string, code: string) => AlarmSpec | undefined;
  /** Where active and still-shown alarms are kept across restarts; none: not kept. */
  file?: string;
  minVisibleMs?: number;
  restoredGraceMs?: number;
}

export const DEFAULT_MIN_VISIBLE_MS = 5 * 60_000;
export const DEFAULT_RESTORED_GRACE_MS = 2 * 60_000;

export class AlarmBoard {
  private readonly entries = new Map<string, AlarmEntry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly minVisibleMs: number;

  constructor(private readonly options: AlarmBoardOptions) {
    this.minVisibleMs = options.minVisibleMs ?? DEFAULT_MIN_VISIBLE_MS;
  }

  /** Loads what was shown before the restart. Call once, before devices start. */
  restore(): void {
    const file = this.options.file;
    if (!file) return;
    let saved: AlarmEntry[];
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as AlarmEntry[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.options.log.warn({ err, file }, 'could not read the saved alarms; starting without them');
      return;
    }
    for (const entry of Array.isArray(saved) ? saved : []) {
      if (typeof entry?.deviceId !== 'string' || typeof entry.code !== 'string') continue;
      const restored: AlarmEntry = { ...entry, ...(entry.state === 'active' ? { restored: true as const } : {}) };
      this.entries.set(key(entry.deviceId, entry.code), restored);
      if (restored.state === 'cleared') this.scheduleRemoval(restored);
      else if (restored.expiresAt !== undefined) this.scheduleExpiry(restored);
    }
    const graceMs = this.options.restoredGraceMs ?? DEFAULT_RESTORED_GRACE_MS;
    this.graceTimer = setTimeout(() => this.clearUnconfirmed(), graceMs);
    this.graceTimer.unref();
    if (this.entries.size > 0) this.options.log.info({ alarms: this.entries.size }, 'alarms restored from before the restart');
    this.changed();
  }

  raise(deviceId: string, alarm: DeviceAlarm): void {
    const k = key(deviceId, alarm.code);
    const existing = this.entries.get(k);
    const spec = this.options.spec?.(deviceId, alarm.code);
    if (!spec && this.options.spec) this.options.log.error({ device: deviceId, alarm: alarm.code }, 'alarm code missing from its device kind catalog (and from docs/alarms.md)');
    if (existing?.state === 'active' && !existing.restored && existing.message === alarm.message && spec?.expiresAfterMs === undefined) return;
    const now = this.options.now();
    const sameFault = existing?.state === 'active';
    const entry: AlarmEntry = {
      ...alarm,
      deviceId,
      since: sameFault ? existing.since : now,
      state: 'active',
      ...(sameFault && existing.message === alarm.message && existing.acknowledgedBy !== undefined
        ? { acknowledgedBy: existing.acknowledgedBy, acknowledgedAt: existing.acknowledgedAt }
        : {}),
      ...(spec?.expiresAfterMs !== undefined ? { expiresAt: now + spec.expiresAfterMs } : {}),
    };
    this.cancelTimer(k);
    this.entries.set(k, entry);
    if (entry.expiresAt !== undefined) this.scheduleExpiry(entry);
    this.options.log.warn({ device: deviceId, alarm: alarm.code, severity: alarm.severity }, alarm.message);
    this.options.journal({ type: 'device.alarm.raised', deviceId, data: { code: alarm.code, message: alarm.message, severity: alarm.severity } });
    this.changed();
  }

  clear(deviceId: string, code: string, reason?: string): void {
    const entry = this.entries.get(key(deviceId, code));
    if (!entry || entry.state !== 'active') return;
    entry.state = 'cleared';
    entry.clearedAt = this.options.now();
    delete entry.restored;
    delete entry.expiresAt;
    this.cancelTimer(key(deviceId, code));
    this.options.log.info({ device: deviceId, alarm: code, reason }, 'alarm cleared');
    this.options.journal({ type: 'device.alarm.cleared', deviceId, data: { code, ...(reason ? { reason } : {}) } });
    this.scheduleRemoval(entry);
    this.changed();
  }

  /** An operator has seen it: a cleared alarm goes from the list, an active one is marked. */
  acknowledge(deviceId: string, code: string, by: string): AlarmEntry | undefined {
    const k = key(deviceId, code);
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    if (entry.acknowledgedBy === undefined) {
      entry.acknowledgedBy = by;
      entry.acknowledgedAt = this.options.now();
      this.options.journal({ type: 'device.alarm.acknowledged', deviceId, data: { code, by } });
      this.options.log.info({ device: deviceId, alarm: code, user: by }, 'alarm acknowledged');
    }
    if (entry.state === 'cleared') {
      this.cancelTimer(k);
      this.entries.delete(k);
    }
    this.changed();
    return { ...entry };
  }

  /** What `alarms` shows: active ones and those cleared but not yet seen long enough. */
  list(): AlarmEntry[] {
    return [...this.entries.values()].map((entry) => ({ ...entry }));
  }

  /** Codes of a source's alarms that are active now. */
  activeCodes(deviceId: string): string[] {
    return [...this.entries.values()].filter((e) => e.deviceId === deviceId && e.state === 'active').map((e) => e.code);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }

  private clearUnconfirmed(): void {
    for (const entry of [...this.entries.values()]) {
      // An event alarm (an expiry, no condition to watch: gate.refused) is never raised again;
      // it ends by its expiry, or sooner by its device (the next pass), as before the restart.
      if (entry.restored && entry.expiresAt === undefined) this.clear(entry.deviceId, entry.code, 'not raised again after the restart');
    }
  }

  private scheduleExpiry(entry: AlarmEntry): void {
    const k = key(entry.deviceId, entry.code);
    const timer = setTimeout(() => this.clear(entry.deviceId, entry.code, 'expired'), Math.max(0, entry.expiresAt! - this.options.now()));
    timer.unref();
    this.timers.set(k, timer);
  }

  private scheduleRemoval(entry: AlarmEntry): void {
    const k = key(entry.deviceId, entry.code);
    const remove = (): void => {
      this.timers.delete(k);
      if (this.entries.get(k) !== entry) return;
      this.entries.delete(k);
      this.changed();
    };
    if (entry.acknowledgedBy !== undefined) return remove();
    const leftMs = entry.since + this.minVisibleMs - this.options.now();
    if (leftMs <= 0) return remove();
    const timer = setTimeout(remove, leftMs);
    timer.unref();
    this.timers.set(k, timer);
  }

  private cancelTimer(k: string): void {
    const timer = this.timers.get(k);
    if (timer) clearTimeout(timer);
    this.timers.delete(k);
  }

  private changed(): void {
    this.save();
    this.options.publish(this.list());
  }

  /** Written whole and renamed into place: a power cut leaves the old file or the new, never half. */
  private save(): void {
    const file = this.options.file;
    if (!file) return;
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(this.list()));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.options.log.error({ err, file }, 'could not save the alarms; they are still shown but not kept across a restart');
    }
  }
}

function key(deviceId: string, code: string): string {
  return `${deviceId}\u0000${code}`;
}
