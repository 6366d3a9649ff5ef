import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DgramSocket } from 'node-unix-socket';
import { SystemdNotifier, notifyMessage } from '../../src/platform/sd-notify.js';
import { silentLogger } from '../../src/platform/logger.js';
import { eventually } from '../support/eventually.js';
import { startDaemonProcess } from '../support/daemon-process.js';
import { writeTestHall } from '../support/hall-config.js';

/** A real AF_UNIX datagram socket standing in for systemd's notify socket. */
function listen(path: string): { messages: string[]; close(): void } {
  const socket = new DgramSocket();
  const messages: string[] = [];
  socket.on('data', (data: Buffer) => messages.push(data.toString()));
  socket.bind(path);
  return { messages, close: () => socket.close() };
}

describe('sd_notify over a unix datagram socket', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('sends READY=1 with STATUS, WATCHDOG=1 at half the deadline, and STOPPING=1 — to a path and to an abstract name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const [socketPath, env] of [
      [join(dir, 'notify.sock'), join(dir, 'notify.sock')],
      [`\0hall-edge-test-${process.pid}`, `@hall-edge-test-${process.pid}`],
    ] as const) {
      const systemd = listen(socketPath);
      cleanups.push(systemd.close);
      const notifier = new SystemdNotifier(silentLogger(), { NOTIFY_SOCKET: env, WATCHDOG_USEC: '200000' });
      notifier.ready('hall test: 8 windows');
      await eventually(() => systemd.messages.some((m) => m.startsWith('READY=1\n')), 'READY=1');
      expect(systemd.messages[0]).toBe(notifyMessage({ READY: '1', STATUS: 'hall test: 8 windows', MAINPID: String(process.pid) }));
      await eventually(() => systemd.messages.includes('WATCHDOG=1'), 'a watchdog ping');
      notifier.stopping();
      await eventually(() => systemd.messages.some((m) => m.startsWith('STOPPING=1')), 'STOPPING=1');
      notifier.close();
    }
  });

  it('does nothing without NOTIFY_SOCKET', () => {
    const notifier = new SystemdNotifier(silentLogger(), {});
    expect(notifier.enabled).toBe(false);
    notifier.ready('x');
    notifier.stopping();
    notifier.close();
  });

  it('the daemon process tells systemd it is ready once it serves, and that it is stopping on SIGTERM', async () => {
    const hall = writeTestHall({ ws: false });
    cleanups.push(() => rmSync(hall.dir, { recursive: true, force: true }));
    const path = join(hall.dir, 'notify.sock');
    const systemd = listen(path);
    cleanups.push(systemd.close);
    const daemon = await startDaemonProcess(hall.file, hall.dir, 30_000, [], { NOTIFY_SOCKET: path, WATCHDOG_USEC: '1000000' });
    try {
      const ready = await eventually(() => systemd.messages.find((m) => m.startsWith('READY=1')), 'READY=1 from the daemon');
      expect(ready).toMatch(/^READY=1\nSTATUS=hall test-hall: 8 windows, 3 services\nMAINPID=\d+$/);
      expect(ready).toContain(`MAINPID=${daemon.proc.pid}`);
      await eventually(() => systemd.messages.includes('WATCHDOG=1'), 'a watchdog ping from the daemon');
    } finally {
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    }
    await eventually(() => systemd.messages.some((m) => m.startsWith('STOPPING=1')), 'STOPPING=1 from the daemon');
  }, 60_000);
});
