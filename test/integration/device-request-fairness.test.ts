import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';

interface Answer {
  transaction?: string;
  status: string;
  code?: string;
  error?: string;
}

/**
 * A LAN ticket printer (the simulator) behind a switch: `pause()` stops every byte both ways
 * (the printer "hangs": a status query or a print waits), `resume()` delivers what waited. The
 * kiosk's requests then take exactly as long as the test says, so what waits, what is refused
 * and what is left unread is decided by the daemon alone, not by timing.
 */
class PausablePrinter {
  readonly simulator = new PrinterSimulator();
  private server: Server | undefined;
  private paused = false;
  private readonly waiting: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  async start(): Promise<string> {
    const port = await this.simulator.listenTcp(0);
    this.server = createServer((client) => {
      const upstream = createConnection(port, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const relay = (to: Socket) => (chunk: Buffer) => (this.paused ? this.waiting.push(() => to.write(chunk)) : to.write(chunk));
      client.on('data', relay(upstream));
      upstream.on('data', relay(client));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `tcp://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const deliver of this.waiting.splice(0)) deliver();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.simulator.close();
  }
}

function answersOn(client: MqttClient, topic: string): Answer[] {
  const answers: Answer[] = [];
  client.on('message', (t, body) => {
    if (t === topic) answers.push(JSON.parse(body.toString()) as Answer);
  });
  return answers;
}

/** Kiosk requests (`device/<id>/issue`) take their turn in the same per-connection lines as `bridge/request/*`. */
describe('device request topics are served by the fair scheduler', () => {
  let hall: TestDaemon | undefined;
  let printer: PausablePrinter | undefined;
  afterEach(async () => {
    printer?.resume(); // a hanging print would hold the daemon's stop
    await hall?.close();
    await printer?.close();
    hall = undefined;
    printer = undefined;
  });

  async function hallWithKiosk(requests?: Record<string, unknown>): Promise<{ h: TestDaemon; kiosk: MqttClient; kioskAnswers: Answer[]; issueTopic: string }> {
    printer = new PausablePrinter();
    const url = await printer.start();
    hall = await startTestDaemon({
      windows: 2,
      ...(requests ? { extra: { requests } } : {}),
      devices: [{ id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: url, statusTimeoutMs: 60_000, statusPollMs: 0 }, buttons: [] } }],
    });
    const kiosk = await hall.connectAs('device', 'tcp');
    const issueTopic = `${hall.base}/device/kiosk-1/issue`;
    await kiosk.subscribeAsync(`${issueTopic}/response`, { qos: 0 });
    return { h: hall, kiosk, kioskAnswers: answersOn(kiosk, `${issueTopic}/response`), issueTopic };
  }

  it('a kiosk flooding device/<id>/issue is told busy by its own line and read no further; an operator is served meanwhile', async () => {
    const { h, kiosk, kioskAnswers, issueTopic } = await hallWithKiosk();
    printer!.pause(); // the kiosk's first issue waits for the printer's status: its line fills
    const sent = 3000;
    for (let i = 0; i < sent; i++) kiosk.publish(issueTopic, JSON.stringify({ transaction: `k${i}`, serviceId: 'social-security' }), { qos: 0 });

    const counters = () => h.daemon.api.bridgeCounters();
    // Before, a device topic bypassed the scheduler: every request was parsed and the dispenser
    // answered each one past its 16 waiting with a `busy` of its own, and nothing was ever held.
    await eventually(() => (counters().requestsBusy > 0 && h.daemon.broker.heldReads().connections === 1) || undefined, "the kiosk's line full, a busy, and its reading held");
    const busy = await eventually(() => kioskAnswers.find((a) => a.code === 'busy'), 'the busy answer at the kiosk');
    expect(busy.error).toMatch(/requests waiting \(the limit for role device\)/);
    expect(counters().requestsWaiting).toBe(16); // the device role's line
    expect(counters().requestsBusy).toBeLessThan(sent / 10);

    const operator = new Requester(await h.connectAs('operator', 'ws'), h.base);
    await operator.ready();
    expect(await operator.request('issue', { serviceId: 'medical-insurance' }, 30_000)).toMatchObject({ status: 'ok', data: { ticket: { number: 'B001' } } });
    expect(h.daemon.broker.heldReads().connections).toBe(1);
    expect(counters().requestsBusy).toBeLessThan(sent / 10);

    printer!.resume();
    await eventually(() => kioskAnswers.some((a) => a.status === 'ok') || undefined, "the kiosk's first ticket printed");
    expect(h.daemon.broker.counters().readsHeld).toBeGreaterThan(0);
  }, 60_000);

  it('an operator flooding bridge/request/issue does not starve a kiosk: its issue is served after at most one of the flooder\'s queued requests', async () => {
    // One request at a time in the whole hall, so the order is the scheduler's alone.
    const { h, kiosk, kioskAnswers, issueTopic } = await hallWithKiosk({ concurrent: 1 });
    printer!.pause();
    kiosk.publish(issueTopic, JSON.stringify({ transaction: 'k1', serviceId: 'social-security' }), { qos: 0 });
    const counters = () => h.daemon.api.bridgeCounters();
    await eventually(() => counters().requestsWaiting === 1 || undefined, "the kiosk's first issue running (waiting for the printer)");

    const flooder = await h.connectAs('operator', 'tcp');
    const floodTopic = `${h.base}/bridge/response/issue`;
    await flooder.subscribeAsync(floodTopic, { qos: 0 });
    const floodAnswers = answersOn(flooder, floodTopic);
    for (let i = 0; i < 300; i++) flooder.publish(`${h.base}/bridge/request/issue`, JSON.stringify({ transaction: `f${i}`, serviceId: 'medical-insurance' }), { qos: 0 });
    await eventually(() => floodAnswers.some((a) => a.code === 'busy') || undefined, 'the flooder told busy');
    const line = 64; // the operator's default queue bound
    kiosk.publish(issueTopic, JSON.stringify({ transaction: 'k2', serviceId: 'retirement' }), { qos: 0 });
    await eventually(() => counters().requestsWaiting === 1 + line + 1 || undefined, "the kiosk's second issue in its line beside the flooder's");

    printer!.resume();
    await eventually(() => kioskAnswers.filter((a) => a.status === 'ok').length === 2 || undefined, 'both kiosk tickets printed', 30_000);
    expect(kioskAnswers.find((a) => a.transaction === 'k2')).toMatchObject({ status: 'ok', data: { number: 'C001' } });
    const order = [...h.daemon.hall.engine.allTickets()].sort((a, b) => a.issuedAt - b.issuedAt || a.order - b.order).map((t) => t.number);
    expect(order[0]).toBe('A001'); // k1
    const flooderAhead = order.slice(1, order.indexOf('C001'));
    expect(flooderAhead.length).toBeLessThanOrEqual(1);
  }, 60_000);
});
