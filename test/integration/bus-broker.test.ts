import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { connectMqtt } from '../../src/bus/client.js';
import { startBroker } from '../../src/bus/broker.js';
import { silentLogger } from '../../src/platform/logger.js';
import { BASE, BrokerHarness, PASSWORDS, captureLog, closed, collect, nextMessage, tcpUrl, wsUrl, type Username } from '../support/broker-harness.js';

let harness: BrokerHarness;
beforeAll(() => {
  harness = new BrokerHarness();
});
afterEach(() => harness.cleanUp());

const settings: BrokerHarness['settings'] = (extra) => harness.settings(extra);
const start: BrokerHarness['start'] = (extra, log) => harness.start(extra, log);
const connect: BrokerHarness['connect'] = (url, username, options) => harness.connect(url, username, options);

describe('listeners', () => {
  it('reports the ports it actually bound, and MQTT works over TCP and WebSocket', async () => {
    const broker = await start();
    expect(broker.ports.tcpPort).toBeGreaterThan(0);
    expect(broker.ports.wsPort).toBeGreaterThan(0);
    expect(broker.ports.tlsPort).toBeUndefined();

    const viaWs = await connect(wsUrl(broker), 'obs');
    await viaWs.subscribeAsync(`${BASE}/device/kiosk-1/hello`);
    const viaTcp = await connect(tcpUrl(broker), 'kiosk-1');
    const received = nextMessage(viaWs, `${BASE}/device/kiosk-1/hello`);
    await viaTcp.publishAsync(`${BASE}/device/kiosk-1/hello`, '{"n":1}', { qos: 1 });
    expect((await received).payload).toBe('{"n":1}');
    expect(broker.connectedClients()).toBe(2);
  });

  it('answers 404 on other HTTP paths and refuses WebSocket upgrades there', async () => {
    const broker = await start();
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpGet(`http://127.0.0.1:${broker.ports.wsPort}/`, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(404);

    const upgradeStatus = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.wsPort}/not-mqtt`, 'mqtt');
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('upgrade on a wrong path was accepted')));
      ws.on('error', () => undefined);
    });
    expect(upgradeStatus).toBe(404);
  });

  it('serves a configured WebSocket path, and no WebSocket at all when ws is omitted', async () => {
    const custom = await start({ ws: { host: '127.0.0.1', port: 0, path: '/ws' } });
    await connect(`ws://127.0.0.1:${custom.ports.wsPort}/ws`, 'obs');
    const { ws: _ws, ...noWs } = settings();
    const tcpOnly = await startBroker(noWs, silentLogger());
    harness.brokers.push(tcpOnly);
    expect(tcpOnly.ports.wsPort).toBeUndefined();
    await connect(tcpUrl(tcpOnly), 'obs');
  });

  it("turns Nagle's algorithm off on both ends of a TCP connection (requests would wait for delayed ACKs)", async () => {
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    try {
      const broker = await start();
      const client = await connectMqtt(tcpUrl(broker), { reconnectPeriod: 0, username: 'op', password: PASSWORDS.op });
      harness.clients.push(client);
      const own = client.stream as Socket;
      const withNoDelay = noDelay.mock.calls.flatMap((args, i) => (args[0] === true ? [noDelay.mock.contexts[i] as Socket] : []));
      expect(withNoDelay).toContain(own);
      // The broker's end of the same connection: its remote port is the client's local port.
      expect(withNoDelay.some((socket) => socket !== own && socket.remotePort === own.localPort)).toBe(true);
    } finally {
      noDelay.mockRestore();
    }
  });

  it('names host:port when the port is taken, and leaves nothing listening', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startBroker(settings({ ws: { host: '127.0.0.1', port } }), silentLogger())).rejects.toThrow(
        new RegExp(`WebSocket listener cannot bind 127\\.0\\.0\\.1:${port}: address already in use`),
      );
      await expect(startBroker(settings({ tcp: { host: '127.0.0.1', port } }), silentLogger())).rejects.toThrow(/TCP listener cannot bind/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('close() disconnects clients and frees the ports', async () => {
    const broker = await startBroker(settings(), silentLogger());
    const client = await connect(tcpUrl(broker), 'obs');
    const gone = closed(client);
    await broker.close();
    await gone;
    await broker.close(); // idempotent
    await expect(mqtt.connectAsync(tcpUrl(broker), { reconnectPeriod: 0, username: 'obs', password: PASSWORDS.obs })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a config with a bad user before listening', async () => {
    await expect(startBroker(settings({ users: [{ username: 'd', role: 'device', passwordHash: harness.users[0]!.passwordHash }] }), silentLogger())).rejects.toThrow(
      /role device needs a deviceId/,
    );
    await expect(startBroker(settings({ users: [{ username: 'x', role: 'operator', passwordHash: 'plain' }] }), silentLogger())).rejects.toThrow(/mqtt user "x".*hall-edge passwd/);
    await expect(startBroker(settings({ hallId: 'a/b' }), silentLogger())).rejects.toThrow(/one MQTT topic level/);
  });
});

describe('authentication', () => {
  it('refuses anonymous clients and wrong passwords with CONNACK not authorized, logs without the password, counts', async () => {
    const { log, lines } = captureLog();
    const broker = await start({}, log);
    const url = tcpUrl(broker);
    const attempt = (options: IClientOptions) => mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });

    await expect(attempt({})).rejects.toMatchObject({ code: 5 });
    await expect(attempt({ username: 'op', password: 'guess-123' })).rejects.toMatchObject({ code: 5 });
    await expect(attempt({ username: 'nobody', password: 'guess-456' })).rejects.toMatchObject({ code: 5 });
    await expect(attempt({ username: 'op' })).rejects.toMatchObject({ code: 5 });
    await expect(mqtt.connectAsync(wsUrl(broker), { reconnectPeriod: 0, username: 'root', password: 'x' })).rejects.toMatchObject({ code: 5 });

    expect(broker.counters().authRefused).toBe(5);
    const refusals = lines.filter((l) => l.includes('mqtt connection refused')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(refusals.map((r) => r.reason)).toEqual(['anonymous', 'wrong password', 'unknown user', 'anonymous', 'wrong password']);
    expect(refusals[1]).toMatchObject({ username: 'op' });
    expect(String(refusals[1]!.remote)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(String(refusals[4]!.remote)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(lines.join('\n')).not.toMatch(/guess-123|guess-456/);

    await connect(url, 'op'); // the right password still works
  });
});

describe('ACL with real clients', () => {
  async function granted(client: MqttClient, filter: string): Promise<number> {
    try {
      const grants = await client.subscribeAsync(filter, { qos: 1 });
      return grants[0]!.qos;
    } catch (err) {
      // mqtt.js turns a SUBACK failure into a rejection carrying the packet.
      const refused = (err as { packet?: { granted?: unknown[] } }).packet?.granted?.[0];
      if (refused === 128) return 128;
      throw err;
    }
  }

  it('grants or refuses (QoS 128) subscriptions by role, keeps the client connected, counts', async () => {
    const broker = await start();
    const url = tcpUrl(broker);
    const device = await connect(url, 'kiosk-1');
    const observer = await connect(wsUrl(broker), 'obs');
    const operator = await connect(url, 'op');
    const admin = await connect(url, 'root');

    expect(await granted(device, `${BASE}/device/kiosk-1/#`)).toBe(1);
    expect(await granted(device, `${BASE}/bridge/state`)).toBe(1);
    expect(await granted(device, `${BASE}/device/kiosk-2/#`)).toBe(128);
    expect(await granted(device, `${BASE}/#`)).toBe(128);
    expect(await granted(device, `${BASE}/event`)).toBe(128);
    expect(await granted(observer, `${BASE}/#`)).toBe(1);
    expect(await granted(observer, '#')).toBe(128);
    expect(await granted(observer, '$SYS/#')).toBe(128);
    expect(await granted(operator, `${BASE}/bridge/response/+`)).toBe(1);
    expect(await granted(operator, 'hall/+/event')).toBe(128);
    expect(await granted(admin, '#')).toBe(1);
    expect(await granted(admin, '$SYS/#')).toBe(1);

    expect(broker.counters().subscribeRefused).toBe(6);
    expect([device, observer, operator, admin].every((c) => c.connected)).toBe(true);
  });

  it('a refused subscription receives nothing', async () => {
    const broker = await start();
    const device = await connect(tcpUrl(broker), 'kiosk-1');
    const seen = collect(device);
    await expect(device.subscribeAsync(`${BASE}/event`)).rejects.toMatchObject({ packet: { granted: [128] } });
    await device.subscribeAsync(`${BASE}/device/kiosk-1/ping`);
    await broker.publish(`${BASE}/event`, '{"seq":1}', { qos: 1 });
    const ping = nextMessage(device, `${BASE}/device/kiosk-1/ping`);
    await broker.publish(`${BASE}/device/kiosk-1/ping`, '{}', { qos: 1 });
    await ping;
    expect(seen).toEqual([`${BASE}/device/kiosk-1/ping {}`]);
  });

  const refusedPublishes: Array<[Username, string, boolean]> = [
    ['kiosk-1', `${BASE}/device/kiosk-2/key`, false],
    ['kiosk-1', `${BASE}/device/kiosk-1/availability`, true],
    ['kiosk-1', `${BASE}/device/kiosk-1`, true],
    ['op', `${BASE}/bridge/state`, true],
    ['op', `${BASE}/event`, false],
    ['op', `${BASE}/bridge/request/call-next`, true],
    ['root', `${BASE}/window/w01`, true],
    ['root', `${BASE}/bridge/response/call-next`, false],
    ['op', 'elsewhere/topic', false],
    // Below a command: relayed to every subscriber and answered by nobody, were it allowed.
    ['op', `${BASE}/bridge/request/issue/extra`, false],
    ['obs', `${BASE}/bridge/request/issue/extra`, false],
    // The topic the hall commands the voice box on: retained, it would replay on every reconnect.
    ['kiosk-1', `${BASE}/device/kiosk-1/announce`, true],
    ['root', `${BASE}/device/kiosk-1/announce`, true],
  ];

  for (const [username, topic, retain] of refusedPublishes) {
    it(`${username} publishing ${retain ? 'retained ' : ''}${topic} is dropped, logged and the client disconnected`, async () => {
      const { log, lines } = captureLog();
      const broker = await start({}, log);
      const watcher = await connect(tcpUrl(broker), 'root');
      const seen = collect(watcher);
      await watcher.subscribeAsync(['#'], { qos: 1 });

      const offender = await connect(tcpUrl(broker), username);
      const gone = closed(offender);
      offender.publish(topic, '{"forged":true}', { qos: 1, retain }, () => undefined);
      await gone;

      // A sentinel after the refusal: when it arrives, the refused message would have too.
      const sentinel = nextMessage(watcher, `${BASE}/device/kiosk-1/sentinel`);
      await watcher.publishAsync(`${BASE}/device/kiosk-1/sentinel`, 'after', { qos: 1 });
      await sentinel;
      expect(seen.filter((s) => s.includes('forged'))).toEqual([]);
      expect(broker.counters().publishRefused).toBe(1);
      const refusal = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'mqtt publish refused');
      expect(refusal).toMatchObject({ username, topic });

    });
  }

  // A request from a role that may not make requests is set aside for the bridge to answer
  // (`forbidden`) instead of costing the client its connection.
  for (const username of ['obs', 'kiosk-1'] as const) {
    it(`${username} publishing a request is not delivered, is logged, and the client stays connected`, async () => {
      const { log, lines } = captureLog();
      const broker = await start({}, log);
      const watcher = await connect(tcpUrl(broker), 'root');
      const seen = collect(watcher);
      await watcher.subscribeAsync(['#'], { qos: 1 });
      const setAside: string[] = [];
      await broker.subscribe(`$hall-edge/refused/${BASE}/bridge/request/+`, (message) => {
        setAside.push(message.publisher?.username ?? '?');
      });

      const offender = await connect(tcpUrl(broker), username);
      await offender.publishAsync(`${BASE}/bridge/request/call-next`, '{"forged":true}', { qos: 1 });
      const sentinel = nextMessage(watcher, `${BASE}/device/kiosk-1/sentinel`);
      await watcher.publishAsync(`${BASE}/device/kiosk-1/sentinel`, 'after', { qos: 1 });
      await sentinel;
      expect(seen.filter((s) => s.includes('forged'))).toEqual([]);
      expect(setAside).toEqual([username]);
      expect(offender.connected).toBe(true);
      expect(broker.counters().publishRefused).toBe(1);
      expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'mqtt publish refused')).toMatchObject({ username });
    });
  }

  it('allowed publishes by role reach subscribers; requests reach the hall and no other client', async () => {
    const broker = await start();
    const requests: string[] = [];
    await broker.subscribe(`${BASE}/bridge/request/+`, (message) => void requests.push(`${message.topic} ${message.payload.toString()}`));
    const watcher = await connect(tcpUrl(broker), 'obs');
    await watcher.subscribeAsync(`${BASE}/#`, { qos: 1 });
    const seen = collect(watcher);
    const device = await connect(tcpUrl(broker), 'kiosk-1');
    const operator = await connect(wsUrl(broker), 'op');
    const admin = await connect(tcpUrl(broker), 'root');
    await device.publishAsync(`${BASE}/device/kiosk-1/played`, '1', { qos: 1 });
    await operator.publishAsync(`${BASE}/bridge/request/info`, '2', { qos: 1 });
    await admin.publishAsync(`${BASE}/device/kiosk-1/announce`, '3', { qos: 1 });
    await admin.publishAsync(`${BASE}/bridge/request/stats`, '4', { qos: 1 });
    // A kiosk's issue request may carry a visitor's contact: for the hall only, like a request.
    await device.publishAsync(`${BASE}/device/kiosk-1/issue`, '5', { qos: 1 });
    const last = nextMessage(watcher, `${BASE}/device/kiosk-1/sentinel`);
    await device.publishAsync(`${BASE}/device/kiosk-1/sentinel`, '6', { qos: 1 });
    await last;
    expect(seen).toEqual([`${BASE}/device/kiosk-1/played 1`, `${BASE}/device/kiosk-1/announce 3`, `${BASE}/device/kiosk-1/sentinel 6`]);
    expect(requests).toEqual([`${BASE}/bridge/request/info 2`, `${BASE}/bridge/request/stats 4`]);
    expect(broker.counters().publishRefused).toBe(0);
  });

  it("a device's last will on its own topic is published; a will on a forbidden or request topic refuses the CONNECT", async () => {
    const { log, lines } = captureLog();
    const broker = await start({}, log);
    const watcher = await connect(tcpUrl(broker), 'root');
    await watcher.subscribeAsync('hall/#', { qos: 1 });
    const seen = collect(watcher);
    const will = nextMessage(watcher, `${BASE}/device/kiosk-1/status`);
    const device = await connect(tcpUrl(broker), 'kiosk-1', { will: { topic: `${BASE}/device/kiosk-1/status`, payload: Buffer.from('gone'), qos: 1, retain: false } });
    device.stream.destroy(); // an unclean loss triggers the will
    expect((await will).payload).toBe('gone');

    const attempt = (username: Username, topic: string, retain: boolean, url = tcpUrl(broker)) =>
      mqtt.connectAsync(url, { reconnectPeriod: 0, username, password: PASSWORDS[username], will: { topic, payload: Buffer.from('{"forged":true}'), qos: 1, retain } });
    await expect(attempt('kiosk-1', `${BASE}/bridge/state`, true)).rejects.toMatchObject({ code: 5 });
    // An operator may send requests, but not as a will: the answer would go to a client that is gone.
    await expect(attempt('op', `${BASE}/bridge/request/issue`, false)).rejects.toMatchObject({ code: 5 });
    await expect(attempt('root', `${BASE}/bridge/request/call-next`, false, wsUrl(broker))).rejects.toMatchObject({ code: 5 });
    expect(broker.counters()).toMatchObject({ willRefused: 3, authRefused: 0 });
    const reasons = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'mqtt connection refused').map((l) => String(l.reason));
    expect(reasons).toEqual([expect.stringMatching(/will on .*bridge\/state/), expect.stringMatching(/will on .*request/), expect.stringMatching(/will on .*request/)]);

    const sentinel = nextMessage(watcher, `${BASE}/device/kiosk-1/sentinel`);
    await watcher.publishAsync(`${BASE}/device/kiosk-1/sentinel`, 'after', { qos: 1 });
    await sentinel;
    expect(seen.filter((s) => s.includes('forged'))).toEqual([]);
  });
});

describe('TLS', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves MQTT over TLS on its own port with authentication', async () => {
    const broker = await start({ tls: { host: '127.0.0.1', port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
    expect(broker.ports.tlsPort).toBeGreaterThan(0);
    expect(broker.ports.tlsPort).not.toBe(broker.ports.tcpPort);
    const url = `mqtts://127.0.0.1:${broker.ports.tlsPort}`;
    const ca = readFileSync(join(dir, 'cert.pem'));
    const client = await connect(url, 'obs', { ca, rejectUnauthorized: true });
    await client.subscribeAsync(`${BASE}/event`);
    const got = nextMessage(client, `${BASE}/event`);
    await broker.publish(`${BASE}/event`, '{"seq":9}', { qos: 1 });
    expect((await got).payload).toBe('{"seq":9}');

    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, ca, username: 'obs', password: 'wrong' })).rejects.toMatchObject({ code: 5 });
    // A client that does not trust the certificate never gets to MQTT.
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, rejectUnauthorized: true, username: 'obs', password: PASSWORDS.obs })).rejects.toThrow(/self-signed|certificate/i);
  });

  it('names the missing file when a TLS path is wrong', async () => {
    const missing = join(dir, 'nope.pem');
    await expect(startBroker(settings({ tls: { port: 0, cert: missing, key: join(dir, 'key.pem') } }), silentLogger())).rejects.toThrow(
      new RegExp(`TLS cert ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} cannot be read`),
    );
    writeFileSync(join(dir, 'garbage.pem'), 'not a certificate');
    await expect(startBroker(settings({ tls: { port: 0, cert: join(dir, 'garbage.pem'), key: join(dir, 'key.pem') } }), silentLogger())).rejects.toThrow();
  });
});
