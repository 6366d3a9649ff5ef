import { afterEach, describe, expect, it } from 'vitest';
import { GateSimulator } from '../../devices/health-gate/simulator.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { eventually } from '../support/eventually.js';


/** Operators reach devices through bridge requests (they may not publish on device topics). */
describe('device requests through the bridge', () => {
  let hall: TestDaemon | undefined;
  let gate: GateSimulator | undefined;
  let printer: PrinterSimulator | undefined;

  afterEach(async () => {
    await hall?.close();
    await gate?.close();
    await printer?.close();
  });

  it('holds the gate, reprints a ticket, imports appointments, and journals it all', async () => {
    gate = await GateSimulator.tcp();
    printer = new PrinterSimulator();
    await printer.listenTcp(0);
    hall = await startTestDaemon({
      windows: 2,
      devices: [
        { id: 'gate-1', kind: 'health-gate', options: { modbus: { tcp: gate.address }, policy: { requireHealthCode: false } } },
        { id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: printer.url }, buttons: [] } },
      ],
    });
    const r = hall.operator.requester;
    const eventTypes: string[] = [];
    hall.operator.client.on('message', (topic, payload) => {
      if (topic.endsWith('/event')) eventTypes.push((JSON.parse(payload.toString()) as { type: string }).type);
    });
    await hall.operator.client.subscribeAsync(`${hall.base}/event`, { qos: 1 });

    const held = await r.request('gate-hold', { mode: 'open' });
    expect(held).toMatchObject({ status: 'ok', data: { gates: [{ deviceId: 'gate-1', mode: 'open' }] } });
    await eventually(() => gate!.coil(0), 'the turnstile coil held open', 5000);
    expect(await r.request('gate-hold', { mode: 'sideways' })).toMatchObject({ status: 'error', code: 'bad-request' });
    expect(await r.request('gate-hold', { mode: 'auto', deviceId: 'gate-9' })).toMatchObject({ status: 'error', code: 'unknown-device' });

    const issued = await r.request('issue', { serviceId: 'social-security' });
    const number = (issued.data as { ticket: { number: string } }).ticket.number;
    const reprinted = await r.request('reprint', { number });
    expect(reprinted).toMatchObject({ status: 'ok', data: { deviceId: 'kiosk-1', number } });
    await printer.waitForTickets(1);
    expect(JSON.stringify(printer.tickets.at(-1))).toContain(number);
    expect(await r.request('reprint', { number: 'Z999' })).toMatchObject({ status: 'error' });

    const slotStart = Date.now() + 60_000;
    const imported = await r.request('appointments-import', {
      appointments: [
        { serviceId: 'retirement', slotStart, slotEnd: slotStart + 1_800_000, code: 'YY-1001' },
        { serviceId: 'retirement', slotStart, slotEnd: slotStart + 1_800_000, idNumber: '370602199001011234' },
      ],
    });
    expect(imported).toMatchObject({ status: 'ok', data: { dispensers: [{ deviceId: 'kiosk-1', loaded: 2, rejected: 0 }] } });

    await eventually(() => eventTypes.includes('device.gate.hold'), 'the hold journaled and on the event stream', 5000);
    const health = await r.request('health');
    expect((health.data as { lastSeq: number }).lastSeq).toBeGreaterThan(0);
    // An alarm acknowledged by an operator: journaled and shown to everyone, still active.
    printer.setFaults({ paperOut: true });
    type Alarm = { deviceId: string; code: string; acknowledgedBy?: string };
    const alarms = async () => ((await r.request('devices')).data as { alarms: Alarm[] }).alarms;
    const deadline = Date.now() + 10_000;
    while (!(await alarms()).some((a) => a.deviceId === 'kiosk-1' && a.code === 'printer-fault')) {
      if (Date.now() > deadline) throw new Error('no printer-fault alarm');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await r.request('alarm-ack', { deviceId: 'kiosk-1', code: 'printer-fault' })).toMatchObject({ status: 'ok', data: { acknowledgedBy: 'op' } });
    expect((await alarms()).find((a) => a.code === 'printer-fault')).toMatchObject({ acknowledgedBy: 'op' });
    await eventually(() => eventTypes.includes('device.alarm.acknowledged'), 'the acknowledgement journaled', 5000);
    expect(await r.request('alarm-ack', { deviceId: 'kiosk-1', code: 'no-such-alarm' })).toMatchObject({ status: 'error', code: 'unknown-alarm' });

    const devices = await r.request('devices');
    expect((devices.data as { devices: Array<{ id: string }> }).devices.map((d) => d.id).sort()).toEqual(['gate-1', 'kiosk-1']);
  }, 30_000);
});
