import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from './logger.js';

/** The part of node-unix-socket's DgramSocket this file uses. */
interface DatagramSocket {
  sendTo(buf: Buffer, offset: number, length: number, path: string, done?: (err?: Error) => void): void;
  close(): void;
}

type Transport = { kind: 'socket'; socket: DatagramSocket } | { kind: 'tool' };

/**
 * systemd readiness, status, watchdog and stopping notifications (Type=notify), sent the way
 * sd_notify(3) does: one datagram of `KEY=VALUE` lines to the AF_UNIX socket in NOTIFY_SOCKET
 * (a path, or an abstract name written with a leading "@"). Node has no AF_UNIX datagram
 * sockets, so the datagram goes through node-unix-socket (a prebuilt N-API addon, no compiler
 * needed on the box). Where that addon cannot load, it falls back to `systemd-notify --pid=<us>
 * KEY=VALUE...`, whose assignment form every systemd version accepts — unlike `--stopping`,
 * which systemd 252 (Debian 12) rejects. Outside systemd (no NOTIFY_SOCKET) it does nothing.
 */
export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | undefined;
  private readonly target: string | undefined;
  private transport: Transport | undefined;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const socket = env.NOTIFY_SOCKET;
    this.target = socket ? (socket.startsWith('@') ? `\0${socket.slice(1)}` : socket) : undefined;
  }

  get enabled(): boolean {
    return this.target !== undefined;
  }

  ready(status: string): void {
    this.send({ READY: '1', STATUS: status, MAINPID: String(process.pid) });
    const usec = Number(this.env.WATCHDOG_USEC);
    const forUs = this.env.WATCHDOG_PID === undefined || Number(this.env.WATCHDOG_PID) === process.pid;
    if (this.enabled && forUs && Number.isFinite(usec) && usec > 0) {
      // Ping at half the deadline, as sd_watchdog_enabled(3) recommends.
      const interval = Math.max(50, Math.floor(usec / 2000));
      this.watchdog = setInterval(() => this.send({ WATCHDOG: '1' }), interval);
      this.watchdog.unref();
    }
  }

  status(text: string): void {
    this.send({ STATUS: text });
  }

  stopping(status = 'stopping'): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.send({ STOPPING: '1', STATUS: status });
  }

  /** Lets go of the socket (after the last message). */
  close(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.transport?.kind === 'socket') {
      const { socket } = this.transport;
      // After the datagrams queued so far: close is synchronous in the addon, sends are not.
      setImmediate(() => socket.close());
    }
    this.transport = undefined;
  }

  private send(fields: Record<string, string>): void {
    if (!this.target) return;
    const message = notifyMessage(fields);
    const transport = (this.transport ??= openTransport(this.log));
    if (transport.kind === 'socket') {
      const buf = Buffer.from(message);
      transport.socket.sendTo(buf, 0, buf.length, this.target, (err) => {
        if (err) this.failed(err, message);
      });
      return;
    }
    execFile('systemd-notify', [`--pid=${process.pid}`, ...message.split('\n')], (err) => {
      if (err) this.failed(err, message);
    });
  }

  private failed(err: Error, message: string): void {
    this.failures += 1;
    if (this.failures === 1 || this.failures % 100 === 0) this.log.warn({ err, message, failures: this.failures }, 'sd_notify failed');
  }
}

/** "READY=1\nSTATUS=..." — a value cannot span lines, so newlines in a status become spaces. */
export function notifyMessage(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`)
    .join('\n');
}

function openTransport(log: Logger): Transport {
  try {
    const require = createRequire(import.meta.url);
    const { DgramSocket } = require('node-unix-socket') as { DgramSocket: new () => DatagramSocket };
    return { kind: 'socket', socket: new DgramSocket() };
  } catch (err) {
    log.warn({ err }, 'node-unix-socket cannot be loaded on this platform: sd_notify goes through systemd-notify (the unit needs NotifyAccess=all)');
    return { kind: 'tool' };
  }
}
