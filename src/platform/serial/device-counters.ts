/** Per-device health on a shared bus: what an operator needs to find the one dead display. */

export interface DeviceLinkStats {
  /** Exchanges answered. */
  ok: number;
  /** Attempts that got no reply in time. */
  timeouts: number;
  /** Write failures and protocol errors reported by the driver (busy, bad CRC ...). */
  errors: number;
  /** Failed exchanges in a row (all attempts timed out). */
  consecutiveFailures: number;
  /** Epoch ms of the last reply. */
  lastSeen?: number;
  offline: boolean;
}

export class DeviceCounters {
  private readonly byKey = new Map<string, DeviceLinkStats>();

  get(key: string): DeviceLinkStats {
    return { ...this.entry(key) };
  }

  all(): Record<string, DeviceLinkStats> {
    return Object.fromEntries([...this.byKey].map(([key, stats]) => [key, { ...stats }]));
  }

  /** Returns true when the device was offline and is back. */
  success(key: string, now: number): boolean {
    const stats = this.entry(key);
    stats.ok += 1;
    stats.lastSeen = now;
    stats.consecutiveFailures = 0;
    const wasOffline = stats.offline;
    stats.offline = false;
    return wasOffline;
  }

  timeout(key: string): void {
    this.entry(key).timeouts += 1;
  }

  error(key: string): void {
    this.entry(key).errors += 1;
  }

  /** Returns true when this failure takes the device offline. */
  failure(key: string, offlineAfter: number): boolean {
    const stats = this.entry(key);
    stats.consecutiveFailures += 1;
    if (stats.offline || stats.consecutiveFailures < offlineAfter) return false;
    stats.offline = true;
    return true;
  }

  private entry(key: string): DeviceLinkStats {
    let stats = this.byKey.get(key);
    if (!stats) {
      stats = { ok: 0, timeouts: 0, errors: 0, consecutiveFailures: 0, offline: false };
      this.byKey.set(key, stats);
    }
    return stats;
  }
}
