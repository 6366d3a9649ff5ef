import { afterEach, describe, expect, it } from 'vitest';
import { dispenserOptions } from '../../devices/dispenser/options.js';
import { DispenserDriver } from '../../devices/dispenser/driver.js';
import { healthGateKind } from '../../devices/health-gate/kind.js';
import { RecordingContext } from '../../devices/health-gate/fake-context.js';
import { TcpLink } from '../../src/platform/link/tcp-link.js';
import { silentLogger } from '../../src/platform/logger.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/ports.js';
import { MONDAY_9AM, smallModel } from '../support/model.js';
import { EscPosTcpPrinterPeer } from '../support/peers/escpos-tcp-printer.js';
import { ModbusTcpGatePeer } from '../support/peers/modbus-tcp-gate.js';
import { FakeHall } from './dispenser-context.js';
import { recordingLogger } from '../support/recording-context.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * The TCP devices reconnect through the one lifecycle the serial ports use
 * (src/platform/link/reconnecting-link.ts), against peers written from the protocol documents:
 * the peer is switched off (its socket cut, new connections refused), then on again.
 */
describe('TCP device links on the shared reconnect lifecycle', () => {
  it('TcpLink backs off by the shared policy while the peer refuses, and reconnects by itself when it returns', async () => {
    const port = await freePort();
    const link = new TcpLink({ host: '127.0.0.1', port, log: silentLogger(), minBackoffMs: 20, maxBackoffMs: 100 });
    cleanups.push(() => link.close());
    const retries: number[] = [];
    link.on('open-failed', (_err, retryInMs) => retries.push(retryInMs));
    link.start();
    await eventually(() => retries.length >= 4, 'four refused attempts');
    expect(retries.slice(0, 4)).toEqual([20, 40, 80, 100]); // doubling, capped: the same policy as SerialLink
    const peer = await EscPosTcpPrinterPeer.startAt(port);
    cleanups.push(() => peer.close());
    await link.whenOpen(5000);
    expect(peer.accepted).toBe(1);
  });

  it('a LAN printer switched off and on: printer-fault raised, then cleared on a new connection the link opened by itself', async () => {
    const peer = await EscPosTcpPrinterPeer.start();
    cleanups.push(() => peer.close());
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const lines: Array<Record<string, unknown>> = [];
    const ctx = hall.context('d1', recordingLogger(lines));
    const options = dispenserOptions.parse({ printer: { interface: peer.url, statusPollMs: 20, statusTimeoutMs: 3000 } });
    const driver = new DispenserDriver('d1', options, ctx);
    await driver.start();
    cleanups.push(() => driver.stop());
    await eventually(() => peer.statusRequests >= 8, 'polls on the first connection');
    expect(driver.state).toBe('ready');

    await peer.goDown();
    await eventually(() => driver.state === 'fault', 'the dispenser in fault while the printer is off');
    expect(ctx.alarms.get('printer-fault')?.message).toMatch(/offline/);
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: false });

    await peer.comeBack();
    await eventually(() => driver.state === 'ready', 'ready again once the printer is back');
    expect(ctx.alarmLog.filter((entry) => entry.endsWith('printer-fault'))).toEqual(['raise printer-fault', 'clear printer-fault']);
    expect(peer.accepted).toBe(2); // one new connection, not one per poll
    expect(peer.refused).toBe(0);
    expect(ctx.states.at(-1)).toMatchObject({ state: 'ready', printerConnections: 2 });
    // Loss and return went through the shared lifecycle: its log lines, not a reopen at the next exchange.
    // One loss: the peer's cut reads as a close (FIN) or, with bytes still unread, a reset (error).
    expect(lines.filter((l) => l.msg === 'link closed' && l.link === peer.url).map((l) => l.reason)).toEqual([expect.stringMatching(/^(disconnected|error)$/)]);
    expect(lines.filter((l) => l.msg === 'tcp connection open').map((l) => l.connections)).toEqual([1, 2]);
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: true });
  });

  it('a Modbus TCP gate switched off and on: gate.link-down raised and the device offline, then both back', async () => {
    const peer = await ModbusTcpGatePeer.start();
    cleanups.push(() => peer.close());
    const lines: Array<Record<string, unknown>> = [];
    const ctx = new RecordingContext('gate-1', recordingLogger(lines));
    const options = healthGateKind.options.parse({
      modbus: { tcp: peer.address },
      pollMs: 30,
      timeoutMs: 250,
      policy: { requireHealthCode: false },
      gate: { openSeconds: 0.2 },
    });
    const driver = healthGateKind.create('gate-1', options, ctx);
    await driver.start();
    cleanups.push(() => driver.stop());
    await eventually(() => ctx.online() === true, 'gate online');
    expect(peer.connections).toBe(1);

    await peer.goDown();
    await eventually(() => ctx.online() === false, 'offline while the gate is off');
    expect(ctx.alarms.find((a) => a.code === 'gate.link-down')?.severity).toBe('critical');
    expect(ctx.lastState()).toMatchObject({ link: 'down', gate: 'shut' });

    await peer.comeBack();
    await eventually(() => ctx.online() === true, 'online again once the gate is back');
    expect(ctx.clearedAlarms).toContain('gate.link-down');
    expect(peer.connections).toBe(2);
    // Loss and return went through the shared lifecycle (its log lines, its back-off), not a loop of the driver's.
    expect(lines.filter((l) => l.msg === 'link closed' && l.link === `tcp://${peer.address}`).map((l) => l.reason)).toEqual([expect.stringMatching(/^(disconnected|error)$/)]);
    expect(lines.filter((l) => l.msg === 'link open failed').length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.msg === 'tcp connection open').map((l) => l.connections)).toEqual([1, 2]);
    // The new conversation writes the threshold again and polls: the map is the document's.
    peer.presence = true;
    peer.measure(36.5);
    await eventually(() => ctx.decisions().length === 1, 'a measurement decided on the new connection');
    expect(ctx.decisions()[0]).toMatchObject({ decision: 'pass', temperature: 36.5 });
  });
});
