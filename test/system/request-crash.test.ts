import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { writeTestHall, TEST_USERS } from '../support/hall-config.js';
import { connect, Requester, startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';

const BASE = 'hall/test-hall';

/**
 * The window that made duplicate tickets: the journal has committed a request, the daemon dies
 * before its answer leaves, the client resends. HALL_EDGE_TEST_CRASH_AFTER_COMMIT=<n> makes the
 * daemon SIGKILL itself right after the n-th request outcome is durable — inside that window
 * every time, not by timing luck.
 */
describe('kill -9 between journal commit and answer', () => {
  let daemon: DaemonProcess | undefined;
  let client: MqttClient | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    client?.end(true);
    if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
    if (daemon) await daemon.exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  {
    it('a resend (over WebSocket, the request went over TCP) after the crash gets the original answer and no second ticket', async () => {
      const hall = writeTestHall({ windows: 2 });
      dir = hall.dir;
      const op = TEST_USERS.operator;

      daemon = await startDaemonProcess(hall.file, hall.dir, 20_000, [], { HALL_EDGE_TEST_CRASH_AFTER_COMMIT: '3' });
      client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, op.username, op.password);
      let requester = new Requester(client, BASE);
      await requester.ready();
      expect(await requester.request('login', { windowId: 'w01', staffId: 's1' }, 5000, 'login-1')).toMatchObject({ status: 'ok' });
      const a001 = await requester.request('issue', { serviceId: 'social-security' }, 5000, 'press-1');
      expect(a001).toMatchObject({ status: 'ok', data: { ticket: { number: 'A001' } } });
      // The third request that commits events: journaled, then the process dies before answering.
      const lost = requester.request('issue', { serviceId: 'social-security' }, 2000, 'press-2').then(() => 'answered', () => 'no answer');
      const death = await daemon.exited;
      expect(death.signal).toBe('SIGKILL');
      expect(await lost).toBe('no answer');
      client.end(true);

      daemon = await startDaemonProcess(hall.file, hall.dir);
      client = await connect(`ws://127.0.0.1:${daemon.ports.wsPort}/mqtt`, op.username, op.password);
      requester = new Requester(client, BASE);
      await requester.ready();
      const resent = await requester.request('issue', { serviceId: 'social-security' }, 5000, 'press-2');
      expect(resent).toMatchObject({ status: 'ok', transaction: 'press-2', data: { ticket: { number: 'A002', state: 'waiting' } } });
      expect(await requester.request('issue', { serviceId: 'social-security' }, 5000, 'press-2')).toEqual(resent);
      // The answers from before the crash are kept as well.
      expect(await requester.request('issue', { serviceId: 'social-security' }, 5000, 'press-1')).toEqual(a001);
      const listing = await requester.request('tickets');
      expect((listing.data as { tickets: Array<{ number: string }> }).tickets.map((t) => t.number)).toEqual(['A001', 'A002']);
    }, 60_000);
  }
});
