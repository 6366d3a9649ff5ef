import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { healthGateKind } from '../../devices/health-gate/kind.js';
import { GateSimulator, ScannerSimulator } from '../../devices/health-gate/simulator.js';
import { RecordingContext, eventually } from '../../devices/health-gate/fake-context.js';
import type { HealthGateOptionsInput } from '../../devices/health-gate/options.js';
import type { DeviceDriver } from '../../src/device-contract/index.js';
import { openPtyPair, type PtyPair } from '../support/pty.js';

/** The gate driver against a real Modbus TCP slave (modbus-serial ServerTCP) and a scanner on a socat PTY. */
describe('health gate over Modbus TCP', () => {
  let gate: GateSimulator;
  let pty: PtyPair;
  let scanner: ScannerSimulator;
  let ctx: RecordingContext;
  let driver: DeviceDriver | undefined;

  beforeEach(async () => {
    gate = await GateSimulator.tcp();
    pty = await openPtyPair();
    scanner = await ScannerSimulator.open(pty.b);
    ctx = new RecordingContext();
  });

  afterEach(async () => {
    await driver?.stop();
    driver = undefined;
    await scanner.close();
    await pty.close();
    await gate.close();
  });

  /** Waits until the driver has read the registers since now (the request after the next one was sent). */
  async function polled(): Promise<void> {
    const from = gate.requests;
    await eventually(() => gate.requests >= from + 2, 'two more polls');
  }

  async function startDriver(overrides: Partial<HealthGateOptionsInput> = {}): Promise<DeviceDriver> {
    const options = healthGateKind.options.parse({
      modbus: { tcp: gate.address },
      pollMs: 40,
      timeoutMs: 250,
      scanner: { port: pty.a },
      gate: { openSeconds: 0.3 },
      alarmSeconds: 0.3,
      frozenPolls: 6,
      ...overrides,
    });
    driver = healthGateKind.create('gate-1', options, ctx);
    await driver.start();
    await eventually(() => ctx.online(), 'gate online');
    return driver;
  }

  it('opens for a normal temperature and a green code, and journals only decision fields', async () => {
    await startDriver();
    gate.measure(36.5);
    await scanner.scan('HC:G:3701021990xxxx');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'pass', temperature: 36.5, colour: 'green' });
    await eventually(() => gate.gateOpenings() === 1 && !gate.coil(0), 'gate coil pulsed on then off');
    expect(gate.alarmsSounded()).toBe(0);
    expect(JSON.stringify(ctx.records)).not.toContain('3701021990');
    // The policy's threshold was written into the gate's own holding register.
    expect(gate.holdingRegister(10)).toBe(373);
  });

  it('refuses a fever at once, sounds the alarm and raises an operator alarm', async () => {
    await startDriver({ policy: { feverThreshold: 37.3 } });
    gate.measure(38.1);
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'refuse', reason: 'fever', temperature: 38.1 });
    await eventually(() => gate.alarmsSounded() === 1 && !gate.coil(1), 'alarm coil on then off');
    expect(gate.gateOpenings()).toBe(0);
    expect(ctx.alarms.map((a) => a.code)).toContain('gate.refused');
    expect(ctx.clearedAlarms).not.toContain('gate.refused');
    // Its clearing condition (devices/health-gate/alarms.ts): the next person passes.
    gate.measure(36.5);
    await scanner.scan('HC:G:next');
    await eventually(() => ctx.decisions().length === 2, 'the next person decided');
    expect(ctx.decisions()[1]).toMatchObject({ decision: 'pass' });
    await eventually(() => ctx.clearedAlarms.includes('gate.refused'), 'gate.refused cleared by the pass');
  });

  it('refuses a red code and a malformed scan with their reasons', async () => {
    await startDriver();
    gate.measure(36.4);
    await polled();
    await scanner.scan('{"color":"red","name":"张三"}');
    await eventually(() => ctx.decisions().length === 1, 'first decision');
    gate.measure(36.6);
    await polled();
    await scanner.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]));
    await eventually(() => ctx.decisions().length === 2, 'second decision');
    expect(ctx.decisions()).toEqual([
      { decision: 'refuse', reason: 'code-red', temperature: 36.4, colour: 'red' },
      { decision: 'refuse', reason: 'code-unreadable', temperature: 36.6 },
    ]);
    expect(gate.gateOpenings()).toBe(0);
    expect(gate.alarmsSounded()).toBe(1); // the red code only: an unreadable scan asks for a rescan
    expect(JSON.stringify(ctx.records)).not.toContain('张三');
  });

  it('refuses an overlong scan, even one that starts like a green code, without buffering it all', async () => {
    await startDriver();
    gate.measure(36.5);
    await polled();
    // 64 KiB with no newline until the end: bounded by the line framer, never classified.
    await scanner.sendRaw(Buffer.concat([Buffer.from('HC:G:'), Buffer.alloc(64 * 1024, 0x41), Buffer.from('\r\n')]));
    await eventually(() => ctx.decisions().length === 1, 'a decision on the overlong scan');
    expect(ctx.decisions()[0]).toEqual({ decision: 'refuse', reason: 'code-unreadable', temperature: 36.5 });
    gate.measure(36.6);
    await polled();
    await scanner.scan('HC:G:abc');
    await eventually(() => ctx.decisions().length === 2, 'the next scan decided');
    expect(ctx.decisions()[1]).toEqual({ decision: 'pass', temperature: 36.6, colour: 'green' });
    expect(gate.gateOpenings()).toBe(1);
  });

  it('refuses with "timeout" when no code is shown within the scan window', async () => {
    await startDriver({ policy: { scanWindowSeconds: 0.3 } });
    gate.measure(36.5);
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'refuse', reason: 'timeout', temperature: 36.5 });
  });

  it('opens on temperature alone when the hall switched the code check off, and stores the payload only when told', async () => {
    await startDriver({ policy: { requireHealthCode: false }, scanner: undefined });
    gate.measure(36.8);
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'pass', temperature: 36.8 });
  });

  it('keeps the payload when storeScanPayload is on', async () => {
    await startDriver({ storeScanPayload: true });
    gate.measure(36.5);
    await polled();
    await scanner.scan('HC:Y:abc');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'refuse', reason: 'code-yellow', temperature: 36.5, colour: 'yellow', payload: 'HC:Y:abc' });
  });

  it('goes offline on a sensor fault bit, refuses a scan with sensor-fault, and recovers', async () => {
    await startDriver();
    gate.setFault({ kind: 'sensor-fault' });
    await eventually(() => ctx.online() === false, 'offline on sensor fault');
    expect(ctx.alarms.map((a) => a.code)).toContain('gate.sensor-fault');
    await scanner.scan('HC:G:x');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toEqual({ decision: 'refuse', reason: 'sensor-fault', colour: 'green' });
    gate.setFault({ kind: 'none' });
    await eventually(() => ctx.online() === true, 'back online');
    expect(ctx.clearedAlarms).toContain('gate.sensor-fault');
  });

  it('fails safe when the gate falls silent (timeouts), reconnects and recovers by itself', async () => {
    await startDriver();
    gate.setSilent(true);
    await eventually(() => ctx.online() === false, 'offline after timeouts');
    const alarm = ctx.alarms.find((a) => a.code === 'gate.link-down');
    expect(alarm?.message).toMatch(/timeout/);
    await scanner.scan('HC:G:x');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toMatchObject({ decision: 'refuse', reason: 'sensor-offline' });
    gate.setSilent(false);
    await eventually(() => ctx.online() === true, 'back online');
    expect(ctx.clearedAlarms).toContain('gate.link-down');
    gate.measure(36.5);
    await scanner.scan('HC:G:y');
    await eventually(() => ctx.decisions().length === 2, 'second decision');
    expect(ctx.decisions()[1]).toMatchObject({ decision: 'pass' });
    expect(ctx.lastState()).toMatchObject({ link: 'up', sensor: 'ok' });
  });

  it('treats Modbus exception responses as a fault', async () => {
    await startDriver();
    gate.setFault({ kind: 'exception', code: 4 });
    await eventually(() => ctx.online() === false, 'offline after exceptions');
    expect(ctx.alarms.find((a) => a.code === 'gate.link-down')?.message).toMatch(/exception/);
    gate.setFault({ kind: 'none' });
    await eventually(() => ctx.online() === true, 'back online');
    expect((ctx.lastState()?.counts as { faults: Record<string, number> }).faults.exception).toBeGreaterThanOrEqual(2);
  });

  it('detects a frozen measurement counter while someone stands at the gate', async () => {
    await startDriver();
    gate.setFault({ kind: 'frozen' });
    await eventually(() => ctx.online() === false, 'offline when frozen');
    expect(ctx.alarms.map((a) => a.code)).toContain('gate.sensor-frozen');
    gate.setFault({ kind: 'none' });
    gate.measure(36.5);
    await eventually(() => ctx.online() === true, 'back online once the counter moves');
    expect(ctx.clearedAlarms).toContain('gate.sensor-frozen');
  });

  it('follows an operator hold from MQTT: open keeps the gate open, shut refuses a pass, auto resumes', async () => {
    await startDriver();
    ctx.deliver('hold', { mode: 'open', transaction: 't1' });
    await eventually(() => gate.coil(0), 'gate held open');
    const response = (transaction: string) => ctx.published.find((p) => p.subtopic === 'hold/response' && (p.payload as { transaction?: string }).transaction === transaction)?.payload;
    expect(await eventually(() => response('t1'), 'the answer to t1')).toEqual({ transaction: 't1', status: 'ok', data: { mode: 'open' } });
    ctx.deliver('hold', { mode: 'shut', transaction: 't2' });
    await eventually(() => !gate.coil(0), 'gate shut');
    gate.measure(36.5);
    await scanner.scan('HC:G:x');
    const [decision] = await eventually(() => ctx.decisions().length > 0 && ctx.decisions(), 'a decision');
    expect(decision).toMatchObject({ decision: 'refuse', reason: 'held-shut', hold: 'shut' });
    ctx.deliver('hold', { mode: 'sideways', transaction: 't3' });
    // The envelope of bridge/response: transaction echoed, a code for programs, an error for people.
    expect(await eventually(() => response('t3'), 'the answer to t3')).toMatchObject({ transaction: 't3', status: 'error', code: 'bad-request', error: expect.stringContaining('mode') });
    ctx.deliver('hold', { mode: 'auto' });
    await eventually(() => ctx.records.filter((r) => r.type === 'device.gate.hold').length === 3, 'three holds journaled');
    expect(ctx.records.filter((r) => r.type === 'device.gate.hold').map((r) => r.data.mode)).toEqual(['open', 'shut', 'auto']);
    expect(ctx.lastState()).toMatchObject({ hold: 'auto', gate: 'shut' });
  });
});
