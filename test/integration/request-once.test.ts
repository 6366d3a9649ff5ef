import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';

/** Every message a client receives, by topic. */
function record(client: MqttClient): Array<{ topic: string; payload: string }> {
  const seen: Array<{ topic: string; payload: string }> = [];
  client.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  return seen;
}

describe('requests run once per (user, transaction) and answer only the asker', () => {
  let hall: TestDaemon;
  beforeEach(async () => {
    hall = await startTestDaemon({ windows: 2 });
  });
  afterEach(async () => {
    await hall.close();
  });

  for (const transport of ['tcp', 'ws'] as const) {
    it(`the same transaction sent twice over ${transport} makes one ticket and gets the same answer`, async () => {
      const client = await hall.connectAs('operator', transport);
      const r = new Requester(client, hall.base);
      await r.ready();
      const first = await r.request('issue', { serviceId: 'social-security' }, 5000, 'kiosk-press-1');
      const again = await r.request('issue', { serviceId: 'social-security' }, 5000, 'kiosk-press-1');
      expect(first).toMatchObject({ status: 'ok', transaction: 'kiosk-press-1' });
      expect(again).toEqual(first);
      const tickets = await r.request('tickets');
      expect((tickets.data as { tickets: unknown[] }).tickets).toHaveLength(1);
      // A new transaction is a new request.
      const other = await r.request('issue', { serviceId: 'social-security' }, 5000, 'kiosk-press-2');
      expect((other.data as { ticket: { number: string } }).ticket.number).toBe('A002');
    });
  }

  it('keeps refusals too, refuses a transaction reused for another command, and keys on the user', async () => {
    const r = hall.operator.requester;
    const refused = await r.request('call-next', { windowId: 'w01' }, 5000, 'cn-1'); // nobody logged in
    expect(refused.status).toBe('error');
    await r.request('login', { windowId: 'w01', staffId: 's1' });
    await r.request('issue', { serviceId: 'social-security' });
    // The window could call now, but this transaction was already answered: same refusal, no call.
    expect(await r.request('call-next', { windowId: 'w01' }, 5000, 'cn-1')).toEqual(refused);
    expect(hall.daemon.hall.engine.windowState('w01')?.current).toBeUndefined();

    const reused = await r.request('finish', { windowId: 'w01' }, 5000, 'cn-1');
    expect(reused).toMatchObject({ status: 'error', code: 'transaction-reused' });

    // Another user's "cn-1" is another request.
    const admin = new Requester(await hall.connectAs('admin'), hall.base);
    await admin.ready();
    const called = await admin.request('call-next', { windowId: 'w01' }, 5000, 'cn-1');
    expect(called).toMatchObject({ status: 'ok', data: { ticket: { number: 'A001' } } });

    // A malformed request ran nothing: the corrected resend under the same transaction runs.
    expect(await r.request('issue', { serviceId: 'social-security', bogus: 1 }, 5000, 'fix-me')).toMatchObject({ code: 'bad-request' });
    expect(await r.request('issue', { serviceId: 'social-security' }, 5000, 'fix-me')).toMatchObject({ status: 'ok', data: { ticket: { number: 'A002' } } });
  });

  it('answers only the client that asked: not other users, not other sessions of the same user', async () => {
    const observer = await hall.connectAs('observer', 'ws');
    await observer.subscribeAsync(`${hall.base}/#`, { qos: 1 });
    const observerSaw = record(observer);
    const otherDashboard = await hall.connectAs('operator');
    await otherDashboard.subscribeAsync(`${hall.base}/bridge/response/+`, { qos: 1 });
    const otherSaw = record(otherDashboard);

    const r = hall.operator.requester;
    await r.request('login', { windowId: 'w01', staffId: 's1' });
    for (let i = 0; i < 5; i++) await r.request('issue', { serviceId: 'retirement' });
    const list = await r.request('tickets');
    expect((list.data as { tickets: unknown[] }).tickets).toHaveLength(5);

    // The events of those requests are public: once the observer has all of them, it would have
    // had the answers too, had they been sent to it.
    await eventually(() => observerSaw.filter((m) => m.topic === `${hall.base}/event`).length >= 6 || undefined, 'the observer to see the events');
    expect(observerSaw.filter((m) => m.topic.includes('/bridge/response/'))).toEqual([]);
    expect(otherSaw).toEqual([]);
  });

});

describe('device topics that take requests run once too', () => {
  let hall: TestDaemon | undefined;
  let printer: PrinterSimulator | undefined;
  afterEach(async () => {
    await hall?.close();
    await printer?.close();
  });

  it('a kiosk resending device/<id>/issue gets its ticket again (no second ticket, no second print), and only the kiosk hears it', async () => {
    printer = new PrinterSimulator();
    await printer.listenTcp(0);
    hall = await startTestDaemon({ windows: 2, devices: [{ id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: printer.url }, buttons: [] } }] });
    const kiosk = await hall.connectAs('device', 'ws');
    await kiosk.subscribeAsync(`${hall.base}/device/kiosk-1/issue/response`, { qos: 1 });
    const kioskSaw = record(kiosk);
    const observer = await hall.connectAs('observer');
    await observer.subscribeAsync(`${hall.base}/device/#`, { qos: 1 });
    const observerSaw = record(observer);

    const press = JSON.stringify({ serviceId: 'social-security', transaction: 'press-77' });
    await kiosk.publishAsync(`${hall.base}/device/kiosk-1/issue`, press, { qos: 1 });
    await eventually(() => kioskSaw.length >= 1 || undefined, 'the first answer');
    await kiosk.publishAsync(`${hall.base}/device/kiosk-1/issue`, press, { qos: 1 });
    await eventually(() => kioskSaw.length >= 2 || undefined, 'the answer to the resend');
    const [first, second] = kioskSaw.map((m) => JSON.parse(m.payload) as unknown);
    expect(first).toEqual({ transaction: 'press-77', status: 'ok', data: { number: 'A001', serviceId: 'social-security' } });
    expect(second).toEqual(first);
    expect([...hall.daemon.hall.engine.allTickets()]).toHaveLength(1);
    expect(printer.tickets).toHaveLength(1);
    expect(observerSaw.filter((m) => m.topic.endsWith('/issue/response'))).toEqual([]);
  });
});
