import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';

function collect(client: MqttClient, filter: string) {
  const messages: Array<{ topic: string; payload: Record<string, unknown>; retain: boolean }> = [];
  client.on('message', (topic, payload, packet) => {
    if (!mqttMatch(filter, topic)) return;
    try {
      messages.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain });
    } catch {
      // not JSON
    }
  });
  return messages;
}

function mqttMatch(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe('MQTT API of the running daemon', () => {
  let hall: TestDaemon;
  beforeEach(async () => {
    hall = await startTestDaemon({ windows: 4 });
  });
  afterEach(async () => {
    await hall.close();
  });

  it('runs every queue operation as a request, with the transaction echoed', async () => {
    const r = hall.operator.requester;
    const ok = async (command: string, payload: Record<string, unknown> = {}) => {
      const response = await r.request(command, payload);
      expect(response, `${command} ${JSON.stringify(response)}`).toMatchObject({ status: 'ok' });
      expect(response.transaction).toMatch(/^t\d+/);
      return response.data as Record<string, any>;
    };
    await ok('login', { windowId: 'w01', staffId: 'zhang' });
    await ok('login', { windowId: 'w02', staffId: 'li' });
    const issued = await ok('issue', { serviceId: 'social-security', channel: 'kiosk', items: ['养老保险参保', '社保卡补办'] });
    expect(issued.ticket).toMatchObject({ number: 'A001', items: ['养老保险参保', '社保卡补办'], state: 'waiting' });
    await ok('issue', { serviceId: 'social-security', priority: true });
    await ok('issue', { serviceId: 'medical-insurance' });
    expect((await ok('call-next', { windowId: 'w01' })).ticket.number).toBe('A002'); // priority first
    await ok('recall', { windowId: 'w01' });
    await ok('skip', { windowId: 'w01' });
    await ok('requeue', { number: 'A002' });
    expect((await ok('call', { windowId: 'w01', number: 'B001' })).ticket.number).toBe('B001');
    await ok('start', { windowId: 'w01' });
    await ok('transfer', { number: 'B001', toServiceId: 'retirement' });
    expect((await ok('ticket', { number: 'B001' })).ticket).toMatchObject({ serviceId: 'retirement', state: 'waiting', order: 3 });
    await ok('call-next', { windowId: 'w02' });
    // The answer names the ticket finished (docs/mqtt-api.md: "the ticket concerned").
    expect((await ok('finish', { windowId: 'w02' })).ticket).toMatchObject({ number: 'A002', state: 'done' });
    await ok('rate', { windowId: 'w02', rating: 5 });
    await ok('pause', { windowId: 'w02', reason: '午休' });
    await ok('resume', { windowId: 'w02' });
    await ok('void', { number: 'A001', reason: 'left the hall' });
    // docs/mqtt-api.md lists staffId for logout: a wrong one is refused, the right one accepted.
    expect(await r.request('logout', { windowId: 'w02', staffId: 'zhang' })).toMatchObject({ status: 'error', code: 'wrong-staff' });
    await ok('logout', { windowId: 'w02', staffId: 'li' });
    const tickets = await ok('tickets', {});
    expect(tickets.tickets.map((t: { number: string }) => t.number)).toEqual(['A001', 'B001', 'A002']); // A002 was put back at the end of the line
    const stats = await ok('stats', {});
    expect(stats.total).toMatchObject({ issued: 3, served: 1, noShows: 1, voided: 1 });
    expect(stats.total.ratings.split['5']).toBe(1);
    const info = await ok('info', {});
    expect(info.requests).toEqual(expect.arrayContaining(['issue', 'call-next', 'transfer', 'rate', 'broadcast', 'report']));
    const report = await ok('report', {});
    expect(report.csv).toContain('hall,,,');
  });

  it('answers malformed, unknown and refused requests with readable errors and keeps running', async () => {
    const r = hall.operator.requester;
    const refused = await r.request('call-next', { windowId: 'w01' });
    expect(refused).toMatchObject({ status: 'error', code: 'window-closed', error: 'window 1 is closed: log in first' });
    expect(await r.request('issue', { serviceId: 'nope' })).toMatchObject({ status: 'error', code: 'unknown-service' });
    expect(await r.request('issue', { serviceId: 'social-security', colour: 'red' })).toMatchObject({ status: 'error', code: 'bad-request' });
    expect(await r.request('call', { windowId: 'w01', number: 'not a number' })).toMatchObject({ status: 'error', code: 'bad-request' });
    expect(await r.request('fly-to-the-moon', {})).toMatchObject({ status: 'error', code: 'unknown-command' });
    const responses = collect(hall.operator.client, `${hall.base}/bridge/response/+`);
    hall.operator.client.publish(`${hall.base}/bridge/request/issue`, '{not json');
    hall.operator.client.publish(`${hall.base}/bridge/request/issue`, '[1,2,3]');
    await eventually(() => responses.length >= 2, 'two responses');
    expect(responses.every((m) => m.payload.status === 'error' && m.payload.code === 'bad-request')).toBe(true);
    expect((await r.request('issue', { serviceId: 'social-security' })).status).toBe('ok');
  });

  it('publishes the event stream with a gap-free seq and keeps retained state current (TCP and WebSocket)', async () => {
    const observer = await hall.connectAs('observer', 'ws');
    const events = collect(observer, `${hall.base}/event`);
    await observer.subscribeAsync(`${hall.base}/event`, { qos: 1 });
    const r = hall.operator.requester;
    await r.request('login', { windowId: 'w01', staffId: 'zhang' });
    for (let i = 0; i < 5; i++) await r.request('issue', { serviceId: 'social-security' });
    await r.request('call-next', { windowId: 'w01' });
    await eventually(() => events.length >= 7, 'seven events');
    const seqs = events.map((e) => e.payload.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(events.at(-1)!.payload).toMatchObject({ type: 'ticket.called', number: 'A001', windowId: 'w01' });

    // A late subscriber gets the retained documents at once.
    const late = await hall.connectAs('observer');
    const retained = collect(late, `${hall.base}/#`);
    await late.subscribeAsync(`${hall.base}/#`, { qos: 1 });
    const window = await eventually(() => retained.find((m) => m.topic === `${hall.base}/window/w01`), 'retained window/w01');
    expect(window.retain).toBe(true);
    expect(window.payload).toMatchObject({ status: 'open', staffId: 'zhang', ticket: { number: 'A001', state: 'called' } });
    const queue = await eventually(() => retained.find((m) => m.topic === `${hall.base}/queue/social-security`), 'retained queue/social-security');
    expect(queue.payload).toMatchObject({ waiting: 4, next: ['A002', 'A003', 'A004', 'A005'] });
    await eventually(() => retained.find((m) => m.topic === `${hall.base}/bridge/state` && m.payload.state === 'online'), 'retained bridge/state online');
    const info = await eventually(() => retained.find((m) => m.topic === `${hall.base}/bridge/info`), 'retained bridge/info');
    expect(info.payload).toMatchObject({ hallId: 'test-hall', version: expect.any(String) });
    const stats = await eventually(() => retained.find((m) => m.topic === `${hall.base}/stats/today` && (m.payload.total as { issued: number }).issued === 5), 'stats/today with 5 issued');
    expect(stats.payload.day).toEqual(expect.any(String));
  });

  it('keeps the event stream in seq order when requests arrive in a burst and commands publish several events', async () => {
    const observer = await hall.connectAs('observer');
    const events = collect(observer, `${hall.base}/event`);
    await observer.subscribeAsync(`${hall.base}/event`, { qos: 1 });
    const r = hall.operator.requester;
    const windows = ['w01', 'w02', 'w03', 'w04'];
    await Promise.all(windows.map((windowId) => r.request('login', { windowId, staffId: `s-${windowId}` })));
    // Pipelined, not awaited one by one: issues, then call-next at busy windows (finished + called each).
    const burst: Array<Promise<unknown>> = [];
    for (let i = 0; i < 24; i++) burst.push(r.request('issue', { serviceId: 'social-security' }));
    for (let round = 0; round < 4; round++) for (const windowId of windows) burst.push(r.request('call-next', { windowId }));
    await Promise.all(burst);
    await eventually(() => events.filter((e) => e.payload.type === 'ticket.called').length >= 16, '16 ticket.called events');
    const seqs = events.map((e) => e.payload.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(events.filter((e) => e.payload.type === 'ticket.finished').length).toBeGreaterThanOrEqual(12);
  });

  it('answers requests from observers and devices with forbidden, executes nothing, and refuses anonymous clients', async () => {
    for (const user of ['observer', 'device'] as const) {
      const client = await hall.connectAs(user);
      const requester = new Requester(client, hall.base);
      if (user === 'observer') await requester.ready();
      else {
        // A device may not subscribe to responses; it still gets no ticket, and keeps its connection.
        client.publish(`${hall.base}/bridge/request/issue`, JSON.stringify({ transaction: 'x', serviceId: 'social-security' }), { qos: 1 });
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(client.connected).toBe(true);
        continue;
      }
      const answer = await requester.request('issue', { serviceId: 'social-security' });
      expect(answer).toMatchObject({ status: 'error', code: 'forbidden' });
      expect(answer.error).toMatch(/\(role observer\) may not send requests/);
      expect(client.connected).toBe(true);
    }
    const tickets = await hall.operator.requester.request('tickets');
    expect((tickets.data as { tickets: unknown[] }).tickets).toHaveLength(0);
    await expect(import('../support/daemon-process.js').then(({ connect }) => connect(`mqtt://127.0.0.1:${hall.daemon.ports.tcp}`, '', ''))).rejects.toThrow();
  });
});
