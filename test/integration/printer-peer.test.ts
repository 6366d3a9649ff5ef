import { afterEach, describe, expect, it } from 'vitest';
import { dispenserOptions } from '../../devices/dispenser/options.js';
import { DispenserDriver } from '../../devices/dispenser/driver.js';
import { eventually } from '../support/eventually.js';
import { MONDAY_9AM, smallModel } from '../support/model.js';
import { EscPosTcpPrinterPeer } from '../support/peers/escpos-tcp-printer.js';
import { FakeHall } from './dispenser-context.js';
import { startTestDaemon } from '../support/in-process-daemon.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** The dispenser against a one-connection LAN printer written from firmware-protocols/escpos.md. */
describe('dispenser and a LAN printer that takes one connection at a time', () => {
  it('polls, prints and sends DLE ENQ on one persistent connection', async () => {
    const peer = await EscPosTcpPrinterPeer.start();
    cleanups.push(() => peer.close());
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const ctx = hall.context('d1');
    const options = dispenserOptions.parse({ printer: { interface: peer.url, statusPollMs: 20, confirmTimeoutMs: 2000, statusTimeoutMs: 1000 } });
    const driver = new DispenserDriver('d1', options, ctx);
    await driver.start();
    cleanups.push(() => driver.stop());

    await eventually(() => peer.statusRequests >= 40, 'ten status polls (four DLE EOT each)');
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: true, number: 'A001' });
    peer.failNextJob = true; // paper end reported for this one job only
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: false, code: 'print-failed' });
    await eventually(() => peer.commands.some((c) => c.command === 'DLE ENQ'), 'DLE ENQ after the failed print');
    const polled = peer.statusRequests;
    await eventually(() => peer.statusRequests >= polled + 20, 'polling carries on');

    expect(peer.refused).toBe(0);
    expect(peer.accepted).toBe(1);
    expect(new Set(peer.commands.map((c) => c.connection))).toEqual(new Set([1]));
    expect(peer.commands.filter((c) => c.command === 'GS r')).toHaveLength(2);
  });
});

describe('an operator sees a printer fault that lasted one job', () => {
  it('shows printer-fault on `alarms` after the next poll cleared it, until acknowledged', async () => {
    const peer = await EscPosTcpPrinterPeer.start();
    cleanups.push(() => peer.close());
    const hall = await startTestDaemon({ devices: [{ id: 'kiosk-1', kind: 'dispenser', options: { printer: { interface: peer.url, statusPollMs: 20 } } }] });
    cleanups.push(() => hall.close());
    const alarms: Array<Array<{ deviceId: string; code: string; state: string }>> = [];
    hall.operator.client.on('message', (topic, payload) => {
      if (topic === `${hall.base}/alarms` && payload.length > 0) alarms.push((JSON.parse(payload.toString()) as { alarms: Array<{ deviceId: string; code: string; state: string }> }).alarms);
    });
    await hall.operator.client.subscribeAsync(`${hall.base}/alarms`, { qos: 1 });
    const dispenser = hall.daemon.devices.driver<DispenserDriver>('kiosk-1')!;
    await hall.operator.requester.request('login', { windowId: 'w01', staffId: 'zhang' });

    peer.failNextJob = true; // paper end for this one job; every status poll reads clean
    const outcome = await dispenser.issue({ serviceId: 'social-security', channel: 'kiosk' });
    expect(outcome).toMatchObject({ ok: false, code: 'print-failed' });
    await eventually(() => dispenser.state === 'ready', 'the next poll reads the printer fine');
    const latest = await eventually(() => {
      const last = alarms.at(-1);
      return last?.some((a) => a.code === 'printer-fault' && a.state === 'cleared') ? last : undefined;
    }, 'the cleared fault still on `alarms`');
    expect(latest).toContainEqual(expect.objectContaining({ deviceId: 'kiosk-1', code: 'printer-fault', severity: 'critical', state: 'cleared' }));

    const ack = await hall.operator.requester.request('alarm-ack', { deviceId: 'kiosk-1', code: 'printer-fault' });
    expect(ack).toMatchObject({ status: 'ok', data: { code: 'printer-fault', acknowledgedBy: 'op' } });
    await eventually(() => alarms.at(-1)?.every((a) => a.code !== 'printer-fault'), 'gone once acknowledged');
  });
});
