import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { testHallConfig } from '../support/hall-config.js';
import { connect } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { hashPassword } from '../../src/bus/password.js';

const TV = { username: 'tv-1', password: 'display-secret-1' };

describe('role display on the real broker: a hall TV reads the public documents only', () => {
  let hall: TestDaemon;
  let tv: MqttClient;
  const received = new Map<string, unknown>();

  beforeAll(async () => {
    const users = [...(testHallConfig().users as unknown[]), { username: TV.username, role: 'display', passwordHash: hashPassword(TV.password) }];
    hall = await startTestDaemon({ windows: 2, extra: { users } });
    tv = await connect(`ws://127.0.0.1:${hall.daemon.ports.ws}/mqtt`, TV.username, TV.password);
    tv.on('message', (topic, payload) => received.set(topic.slice(hall.base.length + 1), payload.length > 0 ? JSON.parse(payload.toString()) : null));
  });
  afterAll(async () => {
    tv?.end(true);
    await hall?.close();
  });

  it('is granted bridge/state, display and queue/+, and refused everything else (the client stays)', async () => {
    const filters = ['bridge/state', 'display', 'queue/+', 'event', 'window/+', 'stats/today', 'alarms', '#', '+', 'device/#', 'bridge/response/+'];
    const granted: Record<string, number> = {};
    for (const filter of filters) {
      // mqtt.js rejects a subscribe refused with QoS 128, carrying the SUBACK.
      granted[filter] = await tv.subscribeAsync(`${hall.base}/${filter}`, { qos: 1 }).then(
        (grants) => grants[0]!.qos,
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0] ?? -1,
      );
    }
    expect(granted).toEqual({
      'bridge/state': 1, display: 1, 'queue/+': 1,
      event: 128, 'window/+': 128, 'stats/today': 128, alarms: 128, '#': 128, '+': 128, 'device/#': 128, 'bridge/response/+': 128,
    });
    expect(tv.connected).toBe(true);
  });

  it('gets the display document live, and nothing from event, window or stats', async () => {
    const requester = hall.operator.requester;
    await requester.request('login', { windowId: 'w01', staffId: 's1' });
    const issued = await requester.request('issue', { serviceId: 'social-security' });
    const number = (issued.data as { ticket: { number: string } }).ticket.number;
    await requester.request('call-next', { windowId: 'w01' });
    await requester.request('broadcast', { text: '请排队' });
    const doc = await eventually(() => {
      const d = received.get('display') as { calls: Array<{ number: string; windowNumber: number; recall: boolean }>; broadcast: { text: string } | null } | undefined;
      return d && d.calls[0]?.number === number && d.broadcast?.text === '请排队' ? d : undefined;
    }, 'the display document with the call and the broadcast');
    expect(doc.calls[0]).toMatchObject({ number, windowId: 'w01', windowNumber: 1, recall: false });
    await requester.request('recall', { windowId: 'w01' });
    await eventually(() => (received.get('display') as { calls: Array<{ recall: boolean }> }).calls[0]?.recall === true, 'the recall on the document');
    expect((received.get('display') as { calls: unknown[] }).calls).toHaveLength(1);
    expect(received.get('queue/social-security')).toMatchObject({ serviceId: 'social-security', waiting: 0 });
    expect([...received.keys()].filter((t) => !['display', 'bridge/state'].includes(t) && !t.startsWith('queue/'))).toEqual([]);
  });

  it('a request from it runs nothing (refused as forbidden) and the TV stays connected', async () => {
    const before = hall.daemon.hall.engine.issuedCount('social-security');
    const refusedBefore = hall.daemon.broker.counters().publishRefused;
    await tv.publishAsync(`${hall.base}/bridge/request/issue`, JSON.stringify({ transaction: 'tv', serviceId: 'social-security' }), { qos: 1 });
    await eventually(() => hall.daemon.broker.counters().publishRefused === refusedBefore + 1, 'the broker refusing the display\'s request');
    // An operator's issue after it runs (the hall is not stuck), and only that one was issued.
    await hall.operator.requester.request('issue', { serviceId: 'social-security' });
    expect(hall.daemon.hall.engine.issuedCount('social-security')).toBe(before + 1);
    expect(tv.connected).toBe(true);
  });
});
