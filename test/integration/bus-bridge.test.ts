import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttBridge, RequestError, type BridgeHandlers, type Caller } from '../../src/bus/bridge.js';
import { startBroker, type RunningBroker } from '../../src/bus/broker.js';
import { hashPassword } from '../../src/bus/password.js';
import type { MqttUser } from '../../src/bus/users.js';
import { silentLogger } from '../../src/platform/logger.js';
import { validatedRequest } from '../../src/device-contract/index.js';
import { z } from 'zod';
import type { SequencedEvent } from '../../src/queue/events.js';
import { eventually } from '../support/eventually.js';

const HALL = 'bridge-hall';
const BASE = `hall/${HALL}`;
const PASSWORDS = { op: 'op-pass-2', obs: 'obs-pass-2', root: 'root-pass-2', 'voice-1': 'voice-pass-2' } as const;
type Username = keyof typeof PASSWORDS;

let users: MqttUser[];
let broker: RunningBroker | undefined;
let bridge: MqttBridge | undefined;
const clients: MqttClient[] = [];

beforeAll(() => {
  users = [
    { username: 'op', role: 'operator', passwordHash: hashPassword(PASSWORDS.op) },
    { username: 'obs', role: 'observer', passwordHash: hashPassword(PASSWORDS.obs) },
    { username: 'root', role: 'admin', passwordHash: hashPassword(PASSWORDS.root) },
    { username: 'voice-1', role: 'device', deviceId: 'voice-1', passwordHash: hashPassword(PASSWORDS['voice-1']) },
  ];
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await bridge?.stop();
  await broker?.close();
  bridge = undefined;
  broker = undefined;
});

async function startAll(handlers: BridgeHandlers = { request: async () => ({}) }): Promise<{ broker: RunningBroker; bridge: MqttBridge }> {
  broker = await startBroker({ hallId: HALL, tcp: { host: '127.0.0.1', port: 0 }, ws: { host: '127.0.0.1', port: 0 }, users }, silentLogger());
  bridge = new MqttBridge(broker, HALL, silentLogger());
  await bridge.start(handlers);
  return { broker, bridge };
}

async function connect(username: Username, transport: 'tcp' | 'ws' = 'tcp', options: IClientOptions = {}): Promise<MqttClient> {
  const url = transport === 'tcp' ? `mqtt://127.0.0.1:${broker!.ports.tcpPort}` : `ws://127.0.0.1:${broker!.ports.wsPort}/mqtt`;
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, username, password: PASSWORDS[username], ...options });
  clients.push(client);
  return client;
}

interface Received {
  topic: string;
  json: unknown;
  retain: boolean;
  qos: number;
}

/** Collects JSON messages; `waitFor(n)` resolves when n have arrived on topics matching `prefix`. */
function recorder(client: MqttClient) {
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    let json: unknown = null;
    try {
      json = payload.length ? JSON.parse(payload.toString()) : null;
    } catch {
      json = { notJson: payload.toString() };
    }
    messages.push({ topic, json, retain: packet.retain, qos: packet.qos });
  });
  return {
    messages,
    on: (topic: string) => messages.filter((m) => m.topic === topic),
    waitFor: (topic: string, count = 1) =>
      eventually(() => {
        const got = messages.filter((m) => m.topic === topic);
        return got.length >= count && got;
      }, `${count} message(s) on ${topic}`, undefined, 5),
  };
}

function event(seq: number): SequencedEvent {
  return { seq, type: 'ticket.called', number: `A${String(seq).padStart(3, '0')}`, windowId: 'w01', reason: 'next', at: 1_700_000_000_000 + seq, day: '2024-03-01' };
}

describe('bridge state', () => {
  it('publishes retained online at start, visible to a subscriber that comes later (TCP and WS)', async () => {
    await startAll();
    for (const transport of ['tcp', 'ws'] as const) {
      const late = await connect('voice-1', transport);
      const rec = recorder(late);
      await late.subscribeAsync(`${BASE}/bridge/state`, { qos: 1 });
      const [state] = await rec.waitFor(`${BASE}/bridge/state`);
      expect(state).toMatchObject({ json: { state: 'online' }, retain: true });
    }
  });

  it('overwrites a stale offline at start, and publishes retained offline on stop', async () => {
    const first = await startAll();
    const watcher = await connect('obs');
    const rec = recorder(watcher);
    await watcher.subscribeAsync(`${BASE}/bridge/state`, { qos: 1 });
    await rec.waitFor(`${BASE}/bridge/state`);
    await first.bridge.stop();
    const states = await rec.waitFor(`${BASE}/bridge/state`, 2);
    expect(states.map((s) => s.json)).toEqual([{ state: 'online' }, { state: 'offline' }]);

    // Retained offline is what a later subscriber sees after stop ...
    const late = await connect('obs');
    const lateRec = recorder(late);
    await late.subscribeAsync(`${BASE}/bridge/state`);
    expect((await lateRec.waitFor(`${BASE}/bridge/state`))[0]!.json).toEqual({ state: 'offline' });

    // ... until a new bridge on the same broker says online again.
    const second = new MqttBridge(first.broker, HALL, silentLogger());
    await second.start({ request: async () => null });
    const again = await rec.waitFor(`${BASE}/bridge/state`, 3);
    expect(again[2]!.json).toEqual({ state: 'online' });
    await second.stop();
  });
});

describe('retained state and events', () => {
  it('keeps window/queue/stats/device documents and bridge/info for late subscribers, and clears them', async () => {
    const { bridge } = await startAll();
    bridge.publishInfo({ services: ['A'], version: '0.1.0' });
    bridge.publishRetained('window/w01', { state: 'serving', number: 'A001' });
    bridge.publishRetained('window/w01', { state: 'paused' });
    bridge.publishRetained('queue/social-security', { waiting: 3 });
    bridge.publishRetained('stats/today', { issued: 10 });
    bridge.publishRetained('device/led-w01/availability', { state: 'online' });
    bridge.publishRetained('device/printer-1', { paper: 'ok' });
    bridge.clearRetained('device/printer-1');

    const late = await connect('obs', 'ws');
    const rec = recorder(late);
    await late.subscribeAsync(`${BASE}/#`, { qos: 1 });
    await rec.waitFor(`${BASE}/device/led-w01/availability`);
    await rec.waitFor(`${BASE}/bridge/info`);
    const byTopic = Object.fromEntries(rec.messages.map((m) => [m.topic, m]));
    expect(byTopic[`${BASE}/window/w01`]).toMatchObject({ json: { state: 'paused' }, retain: true });
    expect(byTopic[`${BASE}/queue/social-security`]?.json).toEqual({ waiting: 3 });
    expect(byTopic[`${BASE}/stats/today`]?.json).toEqual({ issued: 10 });
    expect(byTopic[`${BASE}/bridge/info`]?.json).toEqual({ services: ['A'], version: '0.1.0' });
    expect(byTopic[`${BASE}/device/printer-1`]).toBeUndefined();
    expect(rec.on(`${BASE}/window/w01`)).toHaveLength(1);
  });

  it('streams events in seq order at QoS 1, not retained', async () => {
    const { bridge } = await startAll();
    const watcher = await connect('obs');
    const rec = recorder(watcher);
    await watcher.subscribeAsync(`${BASE}/event`, { qos: 1 });
    for (let seq = 1; seq <= 200; seq++) bridge.publishEvents([event(seq)]);
    const got = await rec.waitFor(`${BASE}/event`, 200);
    expect(got.map((m) => (m.json as { seq: number }).seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(got.every((m) => m.qos === 1 && !m.retain)).toBe(true);
    expect(got[0]!.json).toEqual(event(1));

    const late = await connect('obs');
    const lateRec = recorder(late);
    await late.subscribeAsync([`${BASE}/event`, `${BASE}/bridge/state`]);
    await lateRec.waitFor(`${BASE}/bridge/state`);
    expect(lateRec.on(`${BASE}/event`)).toEqual([]);
  });

  it('refuses payloads that cannot be JSON with a clear error', async () => {
    const { bridge } = await startAll();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => bridge.publishRetained('window/w01', cyclic)).toThrow(/window\/w01 cannot be encoded as JSON/);
    expect(() => bridge.publishRetained('window/#', {})).toThrow(/not a publishable subtopic/);
    expect(() => bridge.publishRetained('', {})).toThrow(/not a publishable subtopic/);
  });
});

describe('requests', () => {
  async function operatorSession(transport: 'tcp' | 'ws' = 'tcp') {
    const client = await connect('op', transport);
    const rec = recorder(client);
    await client.subscribeAsync(`${BASE}/bridge/response/+`, { qos: 1 });
    return { client, rec, request: (command: string, body: string) => client.publishAsync(`${BASE}/bridge/request/${command}`, body, { qos: 1 }) };
  }

  it('answers on bridge/response/<command> with the transaction echoed, passing fields and caller', async () => {
    const calls: Array<[string, Record<string, unknown>, Caller]> = [];
    await startAll({
      request: async (command, payload, caller) => {
        calls.push([command, payload, caller]);
        return { called: 'A001', windowId: payload.windowId };
      },
    });
    for (const transport of ['tcp', 'ws'] as const) {
      const { rec, request } = await operatorSession(transport);
      await request('call-next', JSON.stringify({ transaction: `t-${transport}`, windowId: 'w07' }));
      const [response] = await rec.waitFor(`${BASE}/bridge/response/call-next`);
      expect(response!.json).toEqual({ transaction: `t-${transport}`, status: 'ok', data: { called: 'A001', windowId: 'w07' } });
    }
    expect(calls).toEqual([
      ['call-next', { windowId: 'w07' }, { username: 'op', role: 'operator' }],
      ['call-next', { windowId: 'w07' }, { username: 'op', role: 'operator' }],
    ]);
  });

  it('turns malformed payloads, refusals and crashes into error responses and keeps serving', async () => {
    const { bridge } = await startAll({
      request: async (command) => {
        if (command === 'refuse') throw new RequestError('window-paused', 'window w07 is paused');
        if (command === 'crash') throw new TypeError('cannot read x of undefined');
        if (command === 'unknown') throw new RequestError('unknown-command', 'unknown command "unknown"');
        if (command === 'bigint') return { n: 1n };
        return 'fine';
      },
    });
    const { rec, request } = await operatorSession();
    await request('any', 'this is not json');
    await request('any', '[1,2,3]');
    await request('any', '{"transaction":{"nested":true}}');
    await request('refuse', '{"transaction":1}');
    await request('crash', '{"transaction":2}');
    await request('unknown', '{"transaction":3}');
    await request('bigint', '{"transaction":4}');
    await request('ok', '{"transaction":5}');

    const any = await rec.waitFor(`${BASE}/bridge/response/any`, 3);
    expect(any.map((m) => m.json)).toMatchObject([
      { status: 'error', code: 'bad-request', error: expect.stringMatching(/not valid JSON/) },
      { status: 'error', code: 'bad-request', error: expect.stringMatching(/JSON object/) },
      { status: 'error', code: 'bad-request', error: expect.stringMatching(/transaction/) },
    ]);
    expect((await rec.waitFor(`${BASE}/bridge/response/refuse`))[0]!.json).toEqual({ transaction: 1, status: 'error', error: 'window w07 is paused', code: 'window-paused' });
    expect((await rec.waitFor(`${BASE}/bridge/response/crash`))[0]!.json).toEqual({
      transaction: 2,
      status: 'error',
      error: 'internal error: cannot read x of undefined',
      code: 'internal-error',
    });
    expect((await rec.waitFor(`${BASE}/bridge/response/unknown`))[0]!.json).toMatchObject({ transaction: 3, code: 'unknown-command' });
    expect((await rec.waitFor(`${BASE}/bridge/response/bigint`))[0]!.json).toMatchObject({ transaction: 4, code: 'internal-error', error: expect.stringMatching(/JSON/) });
    expect((await rec.waitFor(`${BASE}/bridge/response/ok`))[0]!.json).toEqual({ transaction: 5, status: 'ok', data: 'fine' });
    expect(bridge.counters()).toMatchObject({ requestsHandled: 1, requestsFailed: 7 });
  });

  it('starts handlers in arrival order without waiting, and answers in arrival order even when later ones finish first', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    await startAll({
      request: async (_command, payload) => {
        started.push(Number(payload.i));
        // Earlier requests take longer: answered as they finish, the order would be reversed.
        await new Promise((r) => setTimeout(r, 20 - Number(payload.i)));
        finished.push(Number(payload.i));
        return payload.i;
      },
    });
    const { client, rec } = await operatorSession();
    for (let i = 0; i < 20; i++) client.publish(`${BASE}/bridge/request/call-next`, JSON.stringify({ transaction: i, i }), { qos: 1 });
    const responses = await rec.waitFor(`${BASE}/bridge/response/call-next`, 20);
    const inOrder = Array.from({ length: 20 }, (_, i) => i);
    expect(started).toEqual(inOrder);
    expect(responses.map((r) => (r.json as { transaction: number }).transaction)).toEqual(inOrder);
    // The handlers ran side by side (the hall keeps its own order: Hall.submit / inOrder).
    expect(finished).not.toEqual(inOrder);
  });

  it('an admin may make requests; its role reaches the handler', async () => {
    const callers: Caller[] = [];
    await startAll({ request: async (_c, _p, caller) => callers.push(caller) });
    const admin = await connect('root');
    const rec = recorder(admin);
    await admin.subscribeAsync(`${BASE}/bridge/response/#`);
    await admin.publishAsync(`${BASE}/bridge/request/info`, '{"transaction":"a"}', { qos: 1 });
    await rec.waitFor(`${BASE}/bridge/response/info`);
    expect(callers).toEqual([{ username: 'root', role: 'admin' }]);
  });

  it('stop() lets the request in progress answer, then ignores new ones', async () => {
    let release: () => void = () => undefined;
    const handled: string[] = [];
    const { bridge } = await startAll({
      request: async (command) => {
        handled.push(command);
        if (command === 'slow') await new Promise<void>((r) => (release = r));
        return command;
      },
    });
    const { client, rec, request } = await operatorSession();
    await client.subscribeAsync(`${BASE}/bridge/state`);
    await request('slow', '{"transaction":"s"}');
    await eventually(() => {
      expect(handled).toEqual(['slow']);
      return true;
    }, 'the slow request to be handled');
    const stopping = bridge.stop();
    release();
    await stopping;
    expect((await rec.waitFor(`${BASE}/bridge/response/slow`))[0]!.json).toEqual({ transaction: 's', status: 'ok', data: 'slow' });
    await request('after', '{"transaction":"late"}');
    await rec.waitFor(`${BASE}/bridge/state`, 2);
    expect(rec.on(`${BASE}/bridge/state`).map((m) => m.json)).toContainEqual({ state: 'offline' });
    expect(handled).toEqual(['slow']);
    expect(rec.on(`${BASE}/bridge/response/after`)).toEqual([]);
  });
});

describe('device topics', () => {
  it('delivers JSON a device publishes on its topics; skips the hall’s own publishes and non-JSON', async () => {
    const { bridge } = await startAll();
    const got: Array<[unknown, string]> = [];
    const stop = bridge.subscribeDevice('voice-1', 'played', (payload, topic) => {
      got.push([payload, topic]);
    });
    await stop.ready;
    const device = await connect('voice-1');
    const rec = recorder(device);
    await device.subscribeAsync(`${BASE}/device/voice-1/#`, { qos: 1 });

    bridge.publish('device/voice-1/announce', { id: 'a1', text: '请 A001 号到 1 号窗口' });
    const [announce] = await rec.waitFor(`${BASE}/device/voice-1/announce`);
    expect(announce!.json).toEqual({ id: 'a1', text: '请 A001 号到 1 号窗口' });
    bridge.publish('device/voice-1/played', { id: 'from-hall' }); // in-process: not for the handler

    await device.publishAsync(`${BASE}/device/voice-1/played`, 'not json', { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/played`, '{"id":"a1"}', { qos: 1 });
    await eventually(() => {
      expect(got).toHaveLength(1);
      return true;
    }, 'the device message');
    expect(got).toEqual([[{ id: 'a1' }, `${BASE}/device/voice-1/played`]]);
    await eventually(() => {
      expect(bridge.counters().devicePayloadsRejected).toBe(1);
      return true;
    }, 'the non-JSON payload counted');

    stop();
    // Once unsubscribed nothing more arrives; a marker published after it proves the broker routed both.
    const marker: string[] = [];
    const undo = bridge.subscribeDevice('voice-1', 'marker', () => void marker.push('m'));
    await undo.ready;
    await device.publishAsync(`${BASE}/device/voice-1/played`, '{"id":"a2"}', { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/marker`, '{}', { qos: 1 });
    await eventually(() => {
      expect(marker).toEqual(['m']);
      return true;
    }, 'the marker');
    undo();
    expect(got).toHaveLength(1);
  });

  it('answers device-topic requests in the envelope of bridge/response, validated by the driver schema', async () => {
    const { bridge } = await startAll();
    // The device contract's handleRequest is this, as the device manager wires it.
    const schema = z.strictObject({ mode: z.enum(['open', 'shut', 'auto']) });
    const seen: Array<{ mode: string; caller: string }> = [];
    await bridge.serveDeviceRequests(
      'voice-1',
      'hold',
      validatedRequest(schema, ({ mode }, caller) => {
        if (mode === 'auto') throw new RequestError('not-now', 'auto is refused in this test');
        seen.push({ mode, caller: `${caller.username}/${caller.role}` });
        return { mode };
      }),
    ).ready;
    const device = await connect('voice-1');
    const rec = recorder(device);
    const responses = `${BASE}/device/voice-1/hold/response`;
    await device.subscribeAsync(responses, { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/hold`, JSON.stringify({ mode: 'open', transaction: 't1' }), { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/hold`, JSON.stringify({ mode: 'sideways', transaction: 7 }), { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/hold`, JSON.stringify({ mode: 'auto', transaction: 't3' }), { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/hold`, 'not json', { qos: 1 });
    const got = (await rec.waitFor(responses, 4)).map((m) => m.json);
    expect(got).toContainEqual({ transaction: 't1', status: 'ok', data: { mode: 'open' } });
    expect(got).toContainEqual({ transaction: 7, status: 'error', code: 'bad-request', error: expect.stringContaining('mode') });
    expect(got).toContainEqual({ transaction: 't3', status: 'error', code: 'not-now', error: 'auto is refused in this test' });
    expect(got).toContainEqual({ status: 'error', code: 'bad-request', error: expect.stringContaining('not valid JSON') });
    expect(seen).toEqual([{ mode: 'open', caller: 'voice-1/device' }]);
    expect(bridge.counters()).toMatchObject({ requestsHandled: 1, requestsFailed: 3 });
  });

  it('a throwing device handler is logged, not fatal', async () => {
    const { bridge } = await startAll();
    let calls = 0;
    await bridge.subscribeDevice('voice-1', '#', () => {
      calls++;
      throw new Error('driver bug');
    }).ready;
    const device = await connect('voice-1');
    await device.publishAsync(`${BASE}/device/voice-1/played`, '{}', { qos: 1 });
    await device.publishAsync(`${BASE}/device/voice-1/key`, '{}', { qos: 1 });
    await eventually(() => {
      expect(calls).toBe(2);
      return true;
    }, 'two handler calls');
    expect(device.connected).toBe(true);
  });
});
