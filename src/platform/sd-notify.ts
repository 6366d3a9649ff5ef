import { execFile } from 'node:child_process';
import type { Logger } from './logger.js';

/**
 * systemd readiness and watchdog pings (Type=notify). Node has no AF_UNIX datagram sockets, so
 * this goes through systemd's own `systemd-notify` tool; the unit sets NotifyAccess=all because
 * the message then comes from a child process. Outside systemd (no NOTIFY_SOCKET) it does nothing.
 */
export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | undefined;
  private readonly enabled = Boolean(process.env.NOTIFY_SOCKET);

  constructor(private readonly log: Logger) {}

  ready(status: string): void {
    this.send(['--ready', `--status=${status}`]);
    const usec = Number(process.env.WATCHDOG_USEC);
    if (this.enabled && Number.isFinite(usec) && usec > 0) {
      // Ping at half the deadline, as sd_watchdog_enabled(3) recommends.
      const interval = Math.max(1000, Math.floor(usec / 2000));
      this.watchdog = setInterval(() => this.send(['WATCHDOG=1']), interval);
      this.watchdog.unref();
    }
  }

  stopping(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.send(['--stopping']);
  }

  private send(args: string[]): void {
    if (!this.enabled) return;
    execFile('systemd-notify', args, (err) => {
      if (err) this.log.warn({ err, args }, 'systemd-notify failed');
    });
  }
}
