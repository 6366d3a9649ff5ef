import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { connackOf, encodeConnect, encodePublish, openSocket } from '../support/raw-mqtt.js';
import { TEST_USERS } from '../support/hall-config.js';

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
    for (const socket of held) socket.destroy(); // a stuck reprint would hold the daemon's stop
    await hall?.close();
    await new Promise<void>((resolve) => (printer ? printer.close(() => resolve()) : resolve()));
    hall = undefined;
    printer = undefined;
  });

  /**
   * A hall whose request line is held by a reprint to a printer that never answers: nothing the
   * scheduler admits after it completes until `release()`, so what is queued, refused or left
   * unread is decided by the scheduler and the broker alone, not by timing. One request runs at
   * a time. Until the reprint, the printer hangs up at once (the dispenser starts in fault, quickly).
   */
  async function hallWithHeldLine(): Promise<{ h: TestDaemon; admin: Requester; stuck: Promise<unknown>; release: () => void }> {
    let hold = false;
    printer = createServer((socket) => (hold ? held.add(socket) : socket.destroy()));
    await new Promise<void>((resolve) => printer!.listen(0, '127.0.0.1', resolve));
    const port = (printer.address() as { port: number }).port;
    hall = await startTestDaemon({
      windows: 2,
      extra: { requests: { concurrent: 1 } },
      devices: [{ id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: `tcp://127.0.0.1:${port}`, statusTimeoutMs: 60_000, statusPollMs: 0 }, buttons: [] } }],
    });
    const h = hall;
    const admin = new Requester(await h.connectAs('admin'), h.base);
    await admin.ready();
    expect(await admin.request('issue', { serviceId: 'social-security' })).toMatchObject({ status: 'ok', data: { ticket: { number: 'A001' } } });
    hold = true;
    const stuck = admin.request('reprint', { number: 'A001' }, 120_000);
    await eventually(() => h.daemon.api.bridgeCounters().requestsWaiting === 1 || undefined, 'the reprint to hold the line');
    // The printer goes away: the reprint fails, the line moves.
    const release = (): void => {
      for (const socket of held) socket.destroy();
    };
    return { h, admin, stuck, release };
  }

  it("another operator's issue is served after at most one of the flooder's queued requests, not after all of them", async () => {
    const { h, stuck, release } = await hallWithHeldLine();
    const flooder = await h.connectAs('operator', 'tcp');
    await flooder.subscribeAsync(`${h.base}/bridge/response/issue`, { qos: 0 });
    const answers = flood(flooder, h.base, 'issue', 300, { serviceId: 'social-security' });
    await eventually(() => answers.some((a) => a.code === 'busy') || undefined, 'the flooder to be told busy');
    const other = new Requester(await h.connectAs('operator', 'ws'), h.base);
    await other.ready();
    const mine = other.request('issue', { serviceId: 'medical-insurance' }, 60_000);
    const line = 64; // the operator's default queue bound
    await eventually(() => h.daemon.api.bridgeCounters().requestsWaiting === 1 + line + 1 || undefined, 'the flooder line full and my request queued');

    release();
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

  it('a raw client flooding requests without reading any answer is read no further once refused: its bytes wait in its socket, not in the daemon, and another client is still served', async () => {
    const { h, stuck, release } = await hallWithHeldLine();
    const line = 64; // the operator's default queue bound
    const flooder = await openSocket(h.daemon.ports.tcp);
    const op = TEST_USERS.operator;
    // Logged in first: aedes cuts a client that sends more than a few dozen packets before its CONNACK.
    const connack = connackOf(flooder);
    flooder.write(encodeConnect({ clientId: 'raw-flooder', username: op.username, password: op.password }));
    expect(await connack).toBe(0);
    flooder.pause(); // from now on it reads nothing: not a single answer
    const topic = `${h.base}/bridge/request/issue`;
    const sent = 30_000; // ~2 MB of requests in one write
    const packets: Buffer[] = [];
    for (let i = 0; i < sent; i++) packets.push(encodePublish(topic, `{"transaction":"r${i}","serviceId":"social-security"}`));
    const written = new Promise<void>((resolve) => flooder.write(Buffer.concat(packets), () => resolve()));

    // Its line fills (the reprint holds the hall), the next request is refused, and from then on
    // the broker does not read it: the daemon neither parses nor keeps the rest of the flood.
    const counters = () => h.daemon.api.bridgeCounters();
    await eventually(() => (counters().requestsWaiting === 1 + line && counters().requestsBusy > 0) || undefined, 'the flooder line full and a refusal');
    await written; // the whole flood has left the flooder: it sits in the kernel's socket buffers
    // Before back-pressure the broker went on to parse the whole flood and refuse it request by
    // request (requestsBusy reached sent - line); now it holds the connection instead.
    await eventually(() => h.daemon.broker.heldReads().connections === 1 || counters().requestsBusy >= sent - line || undefined, "the flooder's reading held, or its whole flood parsed");
    // Stopped about one 4 KiB read past the refusal (while the line is held, it reads one more
    // slice at most every 10 s).
    expect(counters().requestsBusy).toBeLessThan(sent / 10);
    const other = new Requester(await h.connectAs('operator', 'ws'), h.base);
    await other.ready();
    const mine = other.request('issue', { serviceId: 'medical-insurance' }, 60_000);
    await eventually(() => counters().requestsWaiting === 1 + line + 1 || undefined, 'my request queued beside the held flooder');
    expect(counters().requestsBusy).toBeLessThan(sent / 10);
    expect(counters().requestsWaiting).toBe(1 + line + 1);
    const heldReads = h.daemon.broker.heldReads();
    expect(heldReads.connections).toBe(1);
    expect(heldReads.unreadBytes).toBeLessThanOrEqual(128 * 1024);

    release();
    expect(await stuck).toMatchObject({ status: 'error' });
    expect(await mine).toMatchObject({ status: 'ok', data: { ticket: { number: 'B001' } } });
    flooder.destroy();
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

  it('an observer flooding requests it may not make gets a few `forbidden` answers and `busy`, not one answer per request', async () => {
    hall = await startTestDaemon({ windows: 2 });
    const h = hall;
    const observer = await h.connectAs('observer', 'tcp');
    await observer.subscribeAsync(`${h.base}/bridge/response/issue`, { qos: 0 });
    const sent = 300;
    const answers = flood(observer, h.base, 'issue', sent, { serviceId: 'social-security' });
    const forbidden = (): number => answers.filter((a) => a.code === 'forbidden').length;
    // Before, every one was answered `forbidden` (and logged); now a refusal takes a turn and a
    // token of the observer's line (5 a second, a burst of 10) like any request.
    await eventually(() => forbidden() + h.daemon.api.bridgeCounters().requestsBusy >= sent || undefined, 'every flooded request refused', 30_000);
    expect(h.daemon.api.bridgeCounters().requestsBusy).toBeGreaterThan(0);
    expect(forbidden()).toBeLessThan(sent / 2);
    expect([...h.daemon.hall.engine.allTickets()]).toHaveLength(0);
    const health = await h.operator.requester.request('health');
    expect(health.data).toMatchObject({ broker: { readsHeld: expect.any(Number), heldReads: { connections: expect.any(Number) } } });
    expect((health.data as { broker: { readsHeld: number } }).broker.readsHeld).toBeGreaterThan(0);
  }, 60_000);

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
