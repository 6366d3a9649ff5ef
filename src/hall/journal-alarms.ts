import { RequestError } from '../bus/bridge.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../platform/logger.js';
import type { DeviceAlarm } from '../device-contract/index.js';
import type { ActiveAlarm, AlarmSource } from './device-manager.js';
import type { Hall } from './hall.js';

const META_KEY = 'open_alarms';

/**
 * The journal's own alarms, listed in `alarms` under the id "journal". Unlike a device's, they
 * do not clear by themselves: a lost stretch of the hall's record stays lost, so the alarm stays
 * — across restarts, it is kept in the journal's meta table — until an ADMIN acknowledges it,
 * which clears it and is journaled with who did it.
 */
export class JournalAlarms implements AlarmSource {
  readonly deviceId = 'journal';
  private readonly open = new Map<string, ActiveAlarm>();

  constructor(
    private readonly journal: Journal,
    private readonly isAdmin: (username: string) => boolean,
    private readonly log: Logger,
    private hall?: Hall,
  ) {
    for (const alarm of journal.getMeta<ActiveAlarm[]>(META_KEY) ?? []) this.open.set(alarm.code, alarm);
  }

  attach(hall: Hall): void {
    this.hall = hall;
  }

  raise(alarm: DeviceAlarm, at: number): void {
    this.open.set(alarm.code, { ...alarm, since: at });
    this.log[alarm.severity === 'critical' ? 'error' : 'warn']({ alarm: alarm.code, severity: alarm.severity }, alarm.message);
    this.persist();
  }

  alarms(): ActiveAlarm[] {
    return [...this.open.values()];
  }

  acknowledge(code: string, by: string): ActiveAlarm | undefined {
    const alarm = this.open.get(code);
    if (!alarm) return undefined;
    if (!this.isAdmin(by)) throw new RequestError('forbidden', `only an admin may acknowledge the journal alarm "${code}": it means part of the hall's record is lost`);
    const at = this.hall?.now() ?? Date.now();
    this.open.delete(code);
    this.persist();
    try {
      this.hall?.record({ type: 'device.journal.alarm-acknowledged', deviceId: this.deviceId, data: { code, by, message: alarm.message } });
    } catch (err) {
      this.log.error({ err, alarm: code }, 'could not journal the acknowledgement of a journal alarm');
    }
    this.log.info({ alarm: code, user: by }, 'journal alarm acknowledged by an admin: cleared');
    return { ...alarm, acknowledgedBy: by, acknowledgedAt: at };
  }

  private persist(): void {
    try {
      this.journal.setMeta(META_KEY, this.open.size > 0 ? [...this.open.values()] : undefined);
    } catch (err) {
      this.log.error({ err }, 'could not keep the journal alarms in the journal; they will not survive a restart');
    }
  }
}
