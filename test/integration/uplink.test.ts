import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../../src/bus/client.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { eventually } from '../support/eventually.js';
import { Mosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';

const HALL = { username: 'test-hall', password: 'hall-uplink-secret' };
const COLLECTOR = { username: 'collector', password: 'collector-secret' };
/** Each hall writes under its own prefix only; the collector reads every hall and asks for replays. */
const ACL = ['pattern write hall/%u/#', 'pattern read hall/%u/uplink/replay', '', `user ${COLLECTOR.username}`, 'topic read hall/#', 'topic write hall/+/uplink/replay', ''].join('\n');

interface EventsMessage {
  hallId: string;
  first: number;
  last: number;
  count: number;
  replay?: boolean;
  events: Array<{ seq: number; type: string }>;
}

describe('uplink to a central Mosquitto', () => {
  let dir: string | undefined;
  let mosquitto: Mosquitto | undefined;
  let hall: TestDaemon | undefined;
  let central: MqttClient | undefined;

  afterEach(async () => {
    await central?.endAsync(true);
    await hall?.close();
    await mosquitto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    central = hall = mosquitto = dir = undefined;
  });

  async function setUp(uplink: Record<string, unknown> = {}, options: { port?: number } = {}): Promise<{ messages: Array<{ topic: string; body: string; retain: boolean }> }> {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-uplink-'));
    const passwordFile = join(dir, 'uplink-password');
    writeFileSync(passwordFile, `${HALL.password}\n`, { mode: 0o600 });
    const url = options.port ? `mqtt://127.0.0.1:${options.port}` : (mosquitto = await Mosquitto.start({ dir: join(dir, 'central'), users: [HALL, COLLECTOR], acl: ACL })).url;
    const messages: Array<{ topic: string; body: string; retain: boolean }> = [];
    // The consumer is there first, as the central platform is: it must see the day from seq 1.
    if (mosquitto) {
      central = await connectMqtt(mosquitto.url, { username: COLLECTOR.username, password: COLLECTOR.password, reconnectPeriod: 0 });
      central.on('message', (topic, payload, packet) => messages.push({ topic, body: payload.toString(), retain: packet.retain }));
      await central.subscribeAsync('hall/test-hall/#', { qos: 1 });
    }
    hall = await startTestDaemon({ windows: 2, extra: { uplink: { url, username: HALL.username, passwordFile, reconnectMaxSeconds: 0.5, ...uplink } } });
    return { messages };
  }

  function eventsFrom(messages: Array<{ topic: string; body: string }>): EventsMessage[] {
    return messages.filter((m) => m.topic === 'hall/test-hall/uplink/events').map((m) => JSON.parse(m.body) as EventsMessage);
  }

  it('sends every event of the day from seq 1, mirrors the documents, reports health, and answers replays', async () => {
    const { messages } = await setUp();
    const requester = hall!.operator.requester;
    expect((await requester.request('issue', { serviceId: 'retirement' })).status).toBe('ok');
    expect((await requester.request('login', { windowId: 'w01', staffId: 's1' })).status).toBe('ok');
    expect((await requester.request('call-next', { windowId: 'w01' })).status).toBe('ok');
    const lastSeq = (await requester.request('health')).data!.lastSeq as number;

    const seqs = () => eventsFrom(messages).flatMap((m) => m.events.map((e) => e.seq));
    await eventually(() => seqs().includes(lastSeq), `seq ${lastSeq} at the central broker`);
    const batches = eventsFrom(messages);
    // Seq 1 (day.started, written before the hall's broker listened) reaches the central side.
    expect(batches[0]!.events[0]).toMatchObject({ seq: 1, type: 'day.started' });
    expect(seqs()).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    for (const batch of batches) {
      expect(batch).toMatchObject({ hallId: 'test-hall', first: batch.events[0]!.seq, last: batch.events[batch.events.length - 1]!.seq, count: batch.events.length });
    }

    // Retained documents and the link state are mirrored (retained: a late subscriber gets them).
    await eventually(() => messages.some((m) => m.topic === 'hall/test-hall/window/w01' && m.body.includes('C001')), 'window/w01 mirrored with the call');
    const late = await connectMqtt(mosquitto!.url, { username: COLLECTOR.username, password: COLLECTOR.password, reconnectPeriod: 0 });
    const retained: Record<string, string> = {};
    late.on('message', (topic, payload, packet) => {
      if (packet.retain) retained[topic] = payload.toString();
    });
    await late.subscribeAsync('hall/test-hall/#', { qos: 1 });
    await eventually(() => retained['hall/test-hall/uplink/state'] && retained['hall/test-hall/bridge/info'] && retained['hall/test-hall/stats/today'] && retained['hall/test-hall/queue/retirement'] && retained['hall/test-hall/alarms'], 'retained documents on the central broker');
    expect(JSON.parse(retained['hall/test-hall/uplink/state']!)).toMatchObject({ state: 'online', hallId: 'test-hall' });
    expect(Object.keys(retained).some((topic) => topic.endsWith('/uplink/events'))).toBe(false);
    await late.endAsync(true);

    // health: connected, and the cursor reaches the journal's end once acknowledged.
    let health = await uplinkHealthWhen((h) => h.cursor === lastSeq, 'the cursor at the last seq');
    expect(health).toMatchObject({ connected: true, cursor: lastSeq, backlog: 0, prefix: 'hall/test-hall' });
    expect(health.lastAckAt).toEqual(expect.any(Number));

    // A consumer that lost events asks; the hall resends them, marked as a replay.
    const before = messages.length;
    await central!.publishAsync('hall/test-hall/uplink/replay', JSON.stringify({ since: 1, until: 3 }), { qos: 1 });
    await eventually(() => eventsFrom(messages.slice(before)).find((m) => m.replay), 'the replayed events');
    const replayed = eventsFrom(messages.slice(before)).filter((m) => m.replay).flatMap((m) => m.events.map((e) => e.seq));
    expect(replayed).toEqual([2, 3]);
    // A malformed request is refused and counted, not fatal.
    await central!.publishAsync('hall/test-hall/uplink/replay', 'not json', { qos: 1 });
    await central!.publishAsync('hall/test-hall/uplink/replay', JSON.stringify({ since: -4 }), { qos: 1 });
    health = await uplinkHealthWhen((h) => h.replayRequestsRefused === 2, 'two refused replay requests');
    expect(health).toMatchObject({ replayRequests: 1, replayRequestsRefused: 2, replayEventsSent: 2 });
  }, 30_000);

  it('answers bridge/request/events from seq 0 with paging, so seq 1 is reachable on the hall too', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-uplink-'));
    hall = await startTestDaemon({ windows: 2 });
    const requester = hall.operator.requester;
    for (let i = 0; i < 5; i++) expect((await requester.request('issue', { serviceId: 'social-security' })).status).toBe('ok');
    const first = await requester.request('events', { since: 0, limit: 4 });
    expect(first.status).toBe('ok');
    const page1 = first.data as { events: Array<{ seq: number; type: string }>; next: number | null; lastSeq: number };
    expect(page1.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(page1.events[0]!.type).toBe('day.started');
    expect(page1.next).toBe(4);
    const page2 = (await requester.request('events', { since: page1.next!, limit: 4 })).data as typeof page1;
    expect(page2.events.map((e) => e.seq)).toEqual([5, 6]);
    expect(page2.next).toBeNull();
    expect(page2.lastSeq).toBe(6);
    const refused = await requester.request('events', { since: 0, limit: 5000 });
    expect(refused).toMatchObject({ status: 'error', code: 'bad-request' });
    expect((await requester.request('events', {})).status).toBe('error');
  }, 30_000);

  it('raises uplink.backlog while the central broker is unreachable, keeps serving the hall, and catches up when it comes', async () => {
    const port = await freePort();
    // MQTT 5 here (3.1.1 in the other tests): the central broker may speak either.
    await setUp({ protocolVersion: 5, alarm: { unreachableSeconds: 1, backlogEvents: 100000 } }, { port });
    const requester = hall!.operator.requester;
    const alarmsSeen: string[] = [];
    const observer = hall!.operator.client;
    observer.on('message', (topic, payload) => {
      if (topic === 'hall/test-hall/alarms') alarmsSeen.push(payload.toString());
    });
    await observer.subscribeAsync('hall/test-hall/alarms', { qos: 1 });
    for (let i = 0; i < 20; i++) expect((await requester.request('issue', { serviceId: 'social-security' })).status).toBe('ok');
    await eventually(() => alarmsSeen.some((doc) => doc.includes('uplink.backlog')), 'uplink.backlog alarm');
    const down = (await requester.request('health')).data!.uplink as Record<string, unknown>;
    expect(down).toMatchObject({ connected: false, cursor: 0 });
    expect(down.backlog).toBeGreaterThanOrEqual(21);

    // The broker comes up on the port the hall has been trying.
    mosquitto = await startMosquittoOn(port);
    central = await connectMqtt(mosquitto.url, { username: COLLECTOR.username, password: COLLECTOR.password, reconnectPeriod: 0 });
    const messages: Array<{ topic: string; body: string }> = [];
    central.on('message', (topic, payload) => messages.push({ topic, body: payload.toString() }));
    await central.subscribeAsync('hall/test-hall/uplink/events', { qos: 1 });
    // Everything queued in the journal before the subscriber came is asked for by replay.
    await central.publishAsync('hall/test-hall/uplink/replay', JSON.stringify({ since: 0 }), { qos: 1 });
    await eventually(() => {
      // A cleared alarm stays on show (state "cleared") until acknowledged: docs/alarms.md.
      const alarms = alarmsSeen[alarmsSeen.length - 1];
      if (alarms === undefined) return false;
      const backlog = (JSON.parse(alarms) as { alarms: Array<{ code: string; state: string }> }).alarms.find((a) => a.code === 'uplink.backlog');
      return backlog === undefined || backlog.state === 'cleared';
    }, 'uplink.backlog cleared');
    const up = (await requester.request('health')).data!.uplink as Record<string, unknown>;
    expect(up.connected).toBe(true);
    expect(mosquitto.log).toMatch(/as hall-edge-test-hall \(p5,/);
    const lastSeq = (await requester.request('health')).data!.lastSeq as number;
    await eventually(() => {
      const seen = new Set(eventsFrom(messages).flatMap((m) => m.events.map((e) => e.seq)));
      return [...Array(lastSeq).keys()].every((i) => seen.has(i + 1));
    }, 'every seq at the central broker');
  }, 30_000);

  it('connects over TLS to a broker signed by the configured CA, and refuses one it cannot verify', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-uplink-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    mosquitto = await Mosquitto.start({ dir: join(dir, 'central'), users: [HALL, COLLECTOR], acl: ACL, tls: { certfile: join(dir, 'cert.pem'), keyfile: join(dir, 'key.pem') } });
    expect(mosquitto.url).toMatch(/^mqtts:/);
    const passwordFile = join(dir, 'uplink-password');
    writeFileSync(passwordFile, HALL.password, { mode: 0o600 });
    const uplink = { url: mosquitto.url, username: HALL.username, passwordFile, reconnectMaxSeconds: 0.5 };

    // Without the city's CA the broker's certificate cannot be verified: no connection, and health says why.
    hall = await startTestDaemon({ windows: 2, extra: { uplink } });
    await eventually(() => /self-signed|certificate/i.test(hall!.daemon.uplink!.health().lastError ?? ''), 'a certificate error');
    expect(hall.daemon.uplink!.health()).toMatchObject({ connected: false, cursor: 0 });
    await hall.close();

    hall = await startTestDaemon({ windows: 2, extra: { uplink: { ...uplink, ca: join(dir, 'cert.pem') } } });
    await eventually(() => hall!.daemon.uplink!.health().cursor === 1, 'seq 1 acknowledged over TLS');
    expect(hall.daemon.uplink!.health().connected).toBe(true);
  }, 30_000);

  /** The uplink's health, as `health` reports it, once it satisfies `predicate`. */
  async function uplinkHealthWhen(predicate: (health: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    const uplink = hall!.daemon.uplink!;
    await eventually(() => predicate(uplink.health() as unknown as Record<string, unknown>), what);
    return (await hall!.operator.requester.request('health')).data!.uplink as Record<string, unknown>;
  }

  async function startMosquittoOn(port: number): Promise<Mosquitto> {
    return Mosquitto.start({ dir: join(dir!, 'central'), users: [HALL, COLLECTOR], acl: ACL, port });
  }
});
