import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';

interface Answer {
  transaction: string;
  status: string;
  code?: string;
}

/** Floods `command` from `client` without waiting; returns the answers as they come. */
function flood(client: MqttClient, base: string, command: string, count: number, payload: Record<string, unknown> = {}): Answer[] {
  const answers: Answer[] = [];
  client.on('message', (topic, body) => {
    if (topic === `${base}/bridge/response/${command}`) answers.push(JSON.parse(body.toString()) as Answer);
  });
  for (let i = 0; i < count; i++) client.publish(`${base}/bridge/request/${command}`, JSON.stringify({ transaction: `f${i}`, ...payload }), { qos: 0 });
  return answers;
}

describe('a flooding client is served fairly and gets busy', () => {
  let hall: TestDaemon | undefined;
  let printer: Server | undefined;
  const held = new Set<Socket>();
  afterEach(async () => {
    await hall?.close();
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => (printer ? printer.close(() => resolve()) : resolve()));
    hall = undefined;
    printer = undefined;
  });

  it("another operator's issue is served after at most one of the flooder's queued requests, not after all of them", async () => {
    // A printer that never answers: a reprint holds the hall's request line while the flood
    // fills up, so the order of service is decided by the scheduler alone, not by timing.
    // Until the reprint, it hangs up at once (the dispenser starts in fault, quickly).
    let hold = false;
    printer = createServer((socket) => (hold ? held.add(socket) : socket.destroy()));
    await new Promise<void>((resolve) => printer!.listen(0, '127.0.0.1', resolve));
    const port = (printer.address() as { port: number }).port;
    hall = await startTestDaemon({
      windows: 2,
      // One request at a time: the order of service is then exactly the scheduler's.
      extra: { requests: { concurrent: 1 } },
      devices: [{ id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: `tcp://127.0.0.1:${port}`, statusTimeoutMs: 60_000, statusPollMs: 0 }, buttons: [] } }],
    });
    const h = hall;
    const admin = new Requester(await h.connectAs('admin'), h.base);
    await admin.ready();
    const a001 = await admin.request('issue', { serviceId: 'social-security' });
    expect(a001.status).toBe('ok');
    hold = true;
    const stuck = admin.request('reprint', { number: 'A001' }, 120_000);
    await eventually(() => h.daemon.api.bridgeCounters().requestsWaiting === 1 || undefined, 'the reprint to hold the line');

    const flooder = await h.connectAs('operator', 'tcp');
    await flooder.subscribeAsync(`${h.base}/bridge/response/issue`, { qos: 0 });
    const answers = flood(flooder, h.base, 'issue', 300, { serviceId: 'social-security' });
    await eventually(() => answers.some((a) => a.code === 'busy') || undefined, 'the flooder to be told busy');
    const other = new Requester(await h.connectAs('operator', 'ws'), h.base);
    await other.ready();
    const mine = other.request('issue', { serviceId: 'medical-insurance' }, 60_000);
    const line = 64; // the operator's default queue bound
    await eventually(() => h.daemon.api.bridgeCounters().requestsWaiting === 1 + line + 1 || undefined, 'the flooder line full and my request queued');

    for (const socket of held) socket.destroy(); // the printer goes away: the reprint fails, the line moves
    expect(await stuck).toMatchObject({ status: 'error' });
    expect(await mine).toMatchObject({ status: 'ok', data: { ticket: { number: 'B001' } } });
    const okAnswers = (): number => answers.filter((a) => a.status === 'ok').length;
    // Once refused, the flooder is read no further until its line is half empty; then the rest
    // of its flood is read, a line's worth admitted again and the others refused.
    await eventually(() => okAnswers() + h.daemon.api.bridgeCounters().requestsBusy >= 300 || undefined, 'every flooded request served or refused', 30_000);

    const issued = h.daemon.hall.engine.allTickets();
    const order = [...issued].sort((a, b) => a.issuedAt - b.issuedAt || a.order - b.order).map((t) => t.number);
    const before = order.slice(1, order.indexOf('B001')); // after A001, the admin's
    expect(before.length).toBeLessThanOrEqual(1);
    expect(h.daemon.broker.counters().readsHeld).toBeGreaterThan(0);
    // Every other request was refused busy; the flooder hears at most 50 of those a second.
    expect(okAnswers()).toBeGreaterThanOrEqual(line);
    expect(h.daemon.api.bridgeCounters().requestsBusy).toBe(300 - okAnswers());
    const told = answers.filter((a) => a.code === 'busy').length;
    expect(told).toBeGreaterThan(0);
    expect(told).toBeLessThanOrEqual(300 - line);
  }, 90_000);

  for (const command of ['tickets', 'health'] as const) {
    it(`a flood of ${command} (a big query) is answered busy beyond its bound; another operator's issue goes through`, async () => {
      hall = await startTestDaemon({ windows: 2 });
      const flooder = await hall.connectAs('operator', 'ws');
      await flooder.subscribeAsync(`${hall.base}/bridge/response/${command}`, { qos: 0 });
      const answers = flood(flooder, hall.base, command, 400);
      const other = new Requester(await hall.connectAs('operator', 'tcp'), hall.base);
      await other.ready();
      expect(await other.request('issue', { serviceId: 'medical-insurance' }, 30_000)).toMatchObject({ status: 'ok' });
      const h = hall;
      await eventually(() => answers.filter((a) => a.status === 'ok').length + h.daemon.api.bridgeCounters().requestsBusy >= 400 || undefined, 'every flooded request answered or refused', 30_000);
      const ok = answers.filter((a) => a.status === 'ok').length;
      expect(h.daemon.api.bridgeCounters().requestsBusy).toBe(400 - ok);
      expect(answers.some((a) => a.code === 'busy')).toBe(true);
      // 5 a second and a burst of 10 per connection: a few, never hundreds.
      expect(ok).toBeLessThan(100);
    }, 60_000);
  }

  it('pages the ticket list with limit/after', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const r = hall.operator.requester;
    for (let i = 0; i < 5; i++) await r.request('issue', { serviceId: 'retirement' });
    const first = await r.request('tickets', { limit: 2 });
    expect(first.data).toMatchObject({ tickets: [{ number: 'C001' }, { number: 'C002' }], next: 'C002' });
    const second = await r.request('tickets', { limit: 2, after: 'C002' });
    expect(second.data).toMatchObject({ tickets: [{ number: 'C003' }, { number: 'C004' }], next: 'C004' });
    const last = await r.request('tickets', { limit: 2, after: 'C004' });
    expect(last.data).toMatchObject({ tickets: [{ number: 'C005' }], next: null });
    expect(await r.request('tickets', { limit: 5000 })).toMatchObject({ status: 'error', code: 'bad-request' });
  });
});
