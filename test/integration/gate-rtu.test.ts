import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthGateKind } from '../../devices/health-gate/kind.js';
import { GateSimulator, ScannerSimulator } from '../../devices/health-gate/simulator.js';
import { RecordingContext, eventually } from '../../devices/health-gate/fake-context.js';
import type { DeviceDriver } from '../../src/device-contract/index.js';
import { openPtyPair, type PtyPair } from '../support/pty.js';

/**
 * Modbus RTU over a real socat PTY pair, modbus-serial's ServerSerial on the device end and the
 * real serialport bindings on the host end: CRC errors only exist here.
 */
describe('health gate over Modbus RTU on a PTY', () => {
  let bus: PtyPair;
  let scanPty: PtyPair;
  let scanDir: string; // the scanner's PTY is reopened at the same paths, so the test owns its directory
  let busDir: string; // so is the RS-485 line's
  let gate: GateSimulator;
  let scanner: ScannerSimulator | undefined;
  let ctx: RecordingContext;
  let driver: DeviceDriver | undefined;

  beforeEach(async () => {
    busDir = mkdtempSync(join(tmpdir(), 'hall-rtu-'));
    bus = await openPtyPair(busDir);
    scanDir = mkdtempSync(join(tmpdir(), 'hall-scan-'));
    scanPty = await openPtyPair(scanDir);
    gate = await GateSimulator.serial(bus.b, { baudRate: 9600 });
    scanner = await ScannerSimulator.open(scanPty.b);
    ctx = new RecordingContext();
    const options = healthGateKind.options.parse({
      modbus: { rtu: { port: bus.a, baudRate: 9600 } },
      pollMs: 50,
      timeoutMs: 300,
      scanner: { port: scanPty.a },
      gate: { openSeconds: 0.3 },
      alarmSeconds: 0.3,
    });
    driver = healthGateKind.create('gate-rtu', options, ctx);
    await driver.start();
    await eventually(() => ctx.online(), 'gate online');
  });

  afterEach(async () => {
    await driver?.stop();
    driver = undefined;
    await scanner?.close();
    await gate.close();
    await scanPty.close();
    await bus.close();
    rmSync(scanDir, { recursive: true, force: true });
    rmSync(busDir, { recursive: true, force: true });
  });

  it('passes a healthy visitor and pulses the gate coil over RTU', async () => {
    gate.measure(36.6);
    await scanner?.scan('HC:G:abc');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'pass', temperature: 36.6, colour: 'green' });
    await eventually(() => gate.gateOpenings() === 1 && !gate.coil(0), 'gate pulsed');
  });

  it('detects CRC errors, goes offline, and recovers when the frames are good again', async () => {
    gate.setFault({ kind: 'crc' });
    await eventually(() => ctx.online() === false, 'offline on CRC errors');
    expect(ctx.alarms.find((a) => a.code === 'gate.link-down')?.message).toMatch(/crc/i);
    gate.setFault({ kind: 'none' });
    await eventually(() => ctx.online() === true, 'back online');
    gate.measure(38.0);
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'refuse', reason: 'fever', temperature: 38 });
  });

  it('reopens its RS-485 port by itself when the adapter comes back (the shared serial link), and polls again', async () => {
    await gate.close();
    await bus.close();
    await eventually(() => ctx.online() === false, 'offline without the RS-485 adapter');
    expect(ctx.alarms.map((a) => a.code)).toContain('gate.link-down');
    bus = await openPtyPair(busDir);
    gate = await GateSimulator.serial(bus.b, { baudRate: 9600 });
    await eventually(() => ctx.online() === true, 'online again on the reopened port');
    expect(ctx.clearedAlarms).toContain('gate.link-down');
    gate.measure(36.5);
    await scanner?.scan('HC:G:abc');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision after the replug');
    expect(decision).toMatchObject({ decision: 'pass', temperature: 36.5 });
  });

  it('marks the gate unavailable when the scanner is unplugged and back when it returns', async () => {
    await scanner?.close();
    scanner = undefined;
    await scanPty.close();
    await eventually(() => ctx.online() === false, 'offline without scanner');
    expect(ctx.alarms.map((a) => a.code)).toContain('gate.scanner-offline');
    // A new PTY at the same path: the driver reopens it by itself.
    scanPty = await openPtyPair(scanDir);
    scanner = await ScannerSimulator.open(scanPty.b);
    await eventually(() => ctx.online() === true, 'back online with scanner', 12_000);
    expect(ctx.clearedAlarms).toContain('gate.scanner-offline');
  });
});
