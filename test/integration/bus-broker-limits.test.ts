import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../src/bus/broker.js';
import { DEFAULT_BROKER_LIMITS } from '../../src/bus/broker-limits.js';
import { BASE, BrokerHarness, PASSWORDS, captureLog, closed, collect, nextMessage, sentinelThrough, tcpUrl, wsUrl, type Username } from '../support/broker-harness.js';
import { eventually } from '../support/eventually.js';
import { connackOf, encodeConnect, fixedHeader, openSocket, streamAnnouncedBody } from '../support/raw-mqtt.js';

/**
 * Broker limits against abusive clients (issue 11, point 4): packet sizes enforced while a packet
 * is read, slow consumers cut, client ids owned by their user, password checks paced.
 */

let harness: BrokerHarness;
beforeAll(() => {
  harness = new BrokerHarness();
});
afterEach(() => harness.cleanUp());

const MiB = 1024 * 1024;

/** An admin on `#` (TCP) and an observer on the hall (WebSocket): proof an oversized message reached nobody. */
async function watchEverything(broker: RunningBroker): Promise<{ watcher: MqttClient; bigOnes: () => string[] }> {
  const watcher = await harness.connect(tcpUrl(broker), 'root');
  await watcher.subscribeAsync('#', { qos: 1 });
  const observer = await harness.connect(wsUrl(broker), 'obs');
  await observer.subscribeAsync(`${BASE}/#`, { qos: 1 });
  const seen = [collect(watcher), collect(observer)];
  return { watcher, bigOnes: () => seen.flat().filter((s) => s.length > 100_000).map((s) => s.slice(0, 80)) };
}

describe('packet size limits', () => {
  for (const transport of ['tcp', 'ws'] as const) {
    it(`a 2 MB publish over ${transport} disconnects the sender and reaches no subscriber`, async () => {
      const { log, entries } = captureLog();
      const broker = await harness.start({}, log);
      const { watcher, bigOnes } = await watchEverything(broker);
      const sender = await harness.connect(transport === 'tcp' ? tcpUrl(broker) : wsUrl(broker), 'kiosk-1');
      const gone = closed(sender);
      sender.publish(`${BASE}/device/kiosk-1/played`, Buffer.alloc(2 * MiB, 0x61), { qos: 0 });
      await gone;

      await sentinelThrough(watcher);
      expect(bigOnes()).toEqual([]);
      expect(broker.counters().oversizedPackets).toBe(1);
      const cut = entries().find((e) => e.msg === 'mqtt oversized packet: connection closed');
      // Over WebSocket the frame limit may trip first (the same bound, read from the frame header).
      expect(cut).toMatchObject(transport === 'tcp' ? { kind: 'oversized-packet', limitBytes: DEFAULT_BROKER_LIMITS.maxPacketBytes, connectPacket: false, username: 'kiosk-1' } : { limitBytes: DEFAULT_BROKER_LIMITS.maxPacketBytes });
      // Packets up to the limit still pass.
      const fine = await harness.connect(transport === 'tcp' ? tcpUrl(broker) : wsUrl(broker), 'kiosk-1');
      const arrived = nextMessage(watcher, `${BASE}/device/kiosk-1/fine`);
      await fine.publishAsync(`${BASE}/device/kiosk-1/fine`, Buffer.alloc(200 * 1024, 0x62), { qos: 1 });
      expect((await arrived).payload.length).toBe(200 * 1024);
    });

    it(`an 8 MB CONNECT over ${transport} (valid user, 8 MB will) is cut before CONNACK and its will reaches nobody`, async () => {
      const broker = await harness.start();
      const { watcher, bigOnes } = await watchEverything(broker);
      const url = transport === 'tcp' ? tcpUrl(broker) : wsUrl(broker);
      const attempt = mqtt.connectAsync(url, {
        reconnectPeriod: 0,
        connectTimeout: 5000,
        username: 'kiosk-1',
        password: PASSWORDS['kiosk-1'],
        will: { topic: `${BASE}/device/kiosk-1/status`, payload: Buffer.alloc(8 * MiB, 0x63), qos: 1, retain: false },
      });
      await expect(attempt).rejects.toThrow();
      await eventually(() => broker.counters().oversizedPackets === 1, 'the CONNECT to be counted as oversized');
      await sentinelThrough(watcher);
      expect(bigOnes()).toEqual([]);
      expect(broker.counters().authRefused).toBe(0); // cut before any password check
      expect(broker.loginsPending()).toBe(0);
    });
  }

  it('cuts a packet from its header: announced 64 MB bodies are refused long before they are sent, and memory stays flat', async () => {
    const broker = await harness.start();
    const { watcher, bigOnes } = await watchEverything(broker);
    const port = broker.ports.tcpPort;
    const declared = 64 * MiB;
    const before = process.memoryUsage();

    // Four CONNECTs announcing 64 MB each, and four logged-in kiosks announcing 64 MB publishes.
    const connects = Array.from({ length: 4 }, async () => streamAnnouncedBody(await openSocket(port), fixedHeader(0x10, declared), declared));
    const publishes = Array.from({ length: 4 }, async (_, i) => {
      const socket = await openSocket(port);
      socket.write(encodeConnect({ clientId: `big-${i}`, username: 'kiosk-1', password: PASSWORDS['kiosk-1'] }));
      expect(await connackOf(socket)).toBe(0);
      return streamAnnouncedBody(socket, fixedHeader(0x30, declared), declared);
    });
    let peakRss = before.rss;
    let peakBuffers = before.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
    }, 5);
    const sent = await Promise.all([...connects, ...publishes]).finally(() => clearInterval(sampler));

    // Each was cut after at most what the kernel's socket buffers hold, not after 64 MB.
    for (const bytes of sent) expect(bytes).toBeLessThan(declared / 2);
    expect(broker.counters().oversizedPackets).toBe(8);
    await sentinelThrough(watcher);
    expect(bigOnes()).toEqual([]);
    // 8 × 64 MB were announced; a broker that buffered them would grow by hundreds of MB. Allowed:
    // per connection one packet limit plus a socket chunk, and slack for the test's own clients.
    const allowedBytes = 8 * (DEFAULT_BROKER_LIMITS.maxPacketBytes + 64 * 1024) + 48 * MiB;
    expect(peakBuffers - before.arrayBuffers).toBeLessThan(allowedBytes);
    expect(peakRss - before.rss).toBeLessThan(allowedBytes + 32 * MiB);
  });
});

describe('slow consumers', () => {
  for (const transport of ['tcp', 'ws'] as const) {
    it(`a subscriber over ${transport} that stops reading is cut once its backlog passes the bound; the others keep receiving`, async () => {
      const { log, entries } = captureLog();
      const backlog = 256 * 1024;
      const broker = await harness.start({ limits: { maxOutgoingBacklogBytes: backlog } }, log);
      const topic = `${BASE}/event`;
      const stalled = await harness.connect(transport === 'tcp' ? tcpUrl(broker) : wsUrl(broker), 'obs', { clientId: 'stalled' });
      await stalled.subscribeAsync(topic, { qos: 0 });
      const healthy = await harness.connect(transport === 'tcp' ? wsUrl(broker) : tcpUrl(broker), 'obs', { clientId: 'healthy' });
      await healthy.subscribeAsync(topic, { qos: 0 });
      let received = 0;
      healthy.on('message', () => received++);
      // The client stops reading: its socket fills, then the kernel's buffers, then the broker's backlog.
      stalled.stream.pause();

      const payload = Buffer.alloc(64 * 1024, 0x65);
      let published = 0;
      // Bounded: loopback socket buffers hold a few MB; 1,000 messages are 64 MB.
      while (broker.counters().slowConsumers === 0 && published < 1000) {
        await broker.publish(topic, payload);
        published++;
      }
      expect(broker.counters().slowConsumers).toBe(1);
      await eventually(() => broker.connectedClients() === 1, 'the stalled client to be gone');
      await eventually(() => received === published || undefined, `the healthy subscriber to get all ${published} messages`);
      const cut = entries().find((e) => e.msg === 'mqtt slow consumer disconnected');
      expect(cut).toMatchObject({ kind: 'slow-consumer', clientId: 'stalled', username: 'obs', limitBytes: backlog });
      // Cut at the first write past the bound: the backlog held at most the bound plus one message.
      expect(Number(cut!.backlogBytes)).toBeLessThanOrEqual(backlog + payload.length + 16);
      expect(healthy.connected).toBe(true);
    });
  }
});

describe('client ids belong to their user', () => {
  it("an observer or a device connecting with the operator's client id is refused; the operator stays", async () => {
    const { log, entries } = captureLog();
    const broker = await harness.start({}, log);
    const operator = await harness.connect(wsUrl(broker), 'op', { clientId: 'dashboard-1' });
    await operator.subscribeAsync(`${BASE}/event`, { qos: 1 });

    for (const [username, url] of [['obs', tcpUrl(broker)], ['kiosk-1', wsUrl(broker)], ['root', tcpUrl(broker)]] as Array<[Username, string]>) {
      await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'dashboard-1', username, password: PASSWORDS[username] })).rejects.toMatchObject({ code: 2 });
    }
    expect(broker.counters().clientIdRefused).toBe(3);
    expect(entries().filter((e) => e.msg === 'mqtt connection refused').map((e) => e.reason)).toEqual(Array(3).fill('client id held by user "op"'));

    // Still connected and still served.
    const event = nextMessage(operator, `${BASE}/event`);
    await broker.publish(`${BASE}/event`, '{"seq":1}', { qos: 1 });
    expect((await event).payload).toBe('{"seq":1}');
    expect(operator.connected).toBe(true);

    // The same user may take over its own session (a dashboard reloading).
    const gone = closed(operator);
    const again = await harness.connect(tcpUrl(broker), 'op', { clientId: 'dashboard-1' });
    await gone;
    expect(again.connected).toBe(true);
    expect(broker.connectedClients()).toBe(1);
  });

  it("another user cannot inherit a persistent session's client id after its holder left", async () => {
    const broker = await harness.start();
    const operator = await harness.connect(tcpUrl(broker), 'op', { clientId: 'dash-persistent', clean: false });
    await operator.subscribeAsync(`${BASE}/event`, { qos: 1 });
    await operator.endAsync();
    await broker.publish(`${BASE}/event`, '{"queued":true}', { qos: 1 });
    await expect(mqtt.connectAsync(tcpUrl(broker), { reconnectPeriod: 0, clean: false, clientId: 'dash-persistent', username: 'obs', password: PASSWORDS.obs })).rejects.toMatchObject({ code: 2 });
    // Its owner gets the queued message.
    const back = mqtt.connect(tcpUrl(broker), { reconnectPeriod: 0, clean: false, clientId: 'dash-persistent', username: 'op', password: PASSWORDS.op });
    harness.clients.push(back);
    const queued = await new Promise<string>((resolve) => back.once('message', (_t, payload) => resolve(payload.toString())));
    expect(queued).toBe('{"queued":true}');
  });
});

describe('login flood', () => {
  it('a real login is not queued behind 50 parallel wrong-password logins from another address', async () => {
    const { log, entries } = captureLog();
    // Short back-off so the flood drains within the test; the mechanism is the same as the defaults'.
    const broker = await harness.start({ limits: { passwordChecks: 2, loginBackoffMs: 20, loginBackoffMaxMs: 200 } }, log);
    const port = broker.ports.tcpPort;
    const flood = await Promise.all(Array.from({ length: 50 }, () => openSocket(port, '127.0.0.2')));
    const answers = flood.map((socket) => connackOf(socket));
    flood.forEach((socket, i) => socket.write(encodeConnect({ clientId: `flood-${i}`, username: 'op', password: `wrong-${i}` })));
    // The flood fills the line (every slot running, its address's queue full) before the real login comes.
    await eventually(() => broker.loginsPending() >= 6, 'the flood to be waiting for password checks');

    const real = await harness.connect(tcpUrl(broker), 'op', { clientId: 'real-operator' });
    expect(real.connected).toBe(true);
    const login = entries().find((e) => e.msg === 'mqtt client authenticated' && e.clientId === 'real-operator') as { wait: { pendingAhead: number; overtakenBy: number } };
    expect(login.wait.pendingAhead).toBeGreaterThanOrEqual(6);
    // In a single line it would wait for every check ahead of it; served by address, at most one
    // other address (the flood's) gets a turn before it.
    expect(login.wait.overtakenBy).toBeLessThanOrEqual(1);

    const codes = await Promise.all(answers);
    expect(codes.every((code) => code === 5 || code === 3)).toBe(true);
    // Beyond its waiting allowance the flooding address is refused at once, without scrypt.
    const counters = broker.counters();
    expect(counters.loginThrottled).toBeGreaterThan(0);
    expect(counters.loginThrottled + counters.authRefused).toBe(50);
    expect(codes.filter((code) => code === 3).length).toBe(counters.loginThrottled);
    flood.forEach((socket) => socket.destroy());
  });
});
