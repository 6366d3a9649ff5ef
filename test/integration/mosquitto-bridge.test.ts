import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freePort } from '../support/ports.js';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { TEST_USERS } from '../support/hall-config.js';
import { eventually } from '../support/eventually.js';


/**
 * The central server's side: a real Mosquitto bridging the hall's topics in from the box with
 * an observer account, as docs/mqtt-api.md tells integrators to configure it.
 */
describe('a central Mosquitto bridged to the hall', () => {
  let hall: TestDaemon | undefined;
  let mosquitto: ChildProcess | undefined;
  let central: MqttClient | undefined;

  afterEach(async () => {
    await central?.endAsync(true);
    if (mosquitto && mosquitto.exitCode === null) {
      const exited = new Promise((resolve) => mosquitto!.once('exit', resolve));
      mosquitto.kill('SIGTERM');
      await exited;
    }
    await hall?.close();
  });

  it('receives the retained state and the live event stream through the bridge', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const port = await freePort();
    const observer = TEST_USERS.observer;
    const conf = join(hall.dir, 'central-mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        'connection hall-test',
        `address 127.0.0.1:${hall.daemon.ports.tcp}`,
        `remote_username ${observer.username}`,
        `remote_password ${observer.password}`,
        'bridge_protocol_version mqttv311',
        'try_private false',
        'cleansession true',
        'topic hall/test-hall/# in 1',
        'notifications true',
        'notifications_local_only true',
        'notification_topic central/hall-test/link',
        '',
      ].join('\n'),
    );
    let stderr = '';
    mosquitto = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    mosquitto.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));

    const messages: Array<{ topic: string; body: string }> = [];
    const deadline = Date.now() + 10_000;
    while (!central) {
      try {
        central = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 1000 });
      } catch {
        if (Date.now() > deadline) throw new Error(`mosquitto did not start: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    central.on('message', (topic, payload) => messages.push({ topic, body: payload.toString() }));
    await central.subscribeAsync(['hall/test-hall/#', 'central/hall-test/link'], { qos: 1 });

    const waitFor = (predicate: (m: { topic: string; body: string }) => boolean, what: string) =>
      eventually(() => messages.find(predicate), `${what} through the bridge (mosquitto: ${stderr})`);
    await waitFor((m) => m.topic === 'central/hall-test/link' && m.body === '1', 'bridge link up');
    await waitFor((m) => m.topic === 'hall/test-hall/bridge/state' && m.body.includes('online'), 'bridge/state');
    await waitFor((m) => m.topic === 'hall/test-hall/window/w01', 'window/w01 state');

    await hall.operator.requester.request('issue', { serviceId: 'retirement' });
    const event = await waitFor((m) => m.topic === 'hall/test-hall/event' && m.body.includes('ticket.issued'), 'ticket.issued event');
    expect(JSON.parse(event.body)).toMatchObject({ type: 'ticket.issued', ticket: { number: 'C001' } });
    const queue = await waitFor((m) => m.topic === 'hall/test-hall/queue/retirement' && m.body.includes('"waiting":1'), 'queue/retirement');
    expect(JSON.parse(queue.body)).toMatchObject({ next: ['C001'] });
  }, 30_000);
});
