import { afterEach, describe, expect, it } from 'vitest';
import { healthGateKind } from '../../devices/health-gate/kind.js';
import { RecordingContext } from '../../devices/health-gate/fake-context.js';
import type { DeviceDriver } from '../../src/device-contract/index.js';
import { eventually } from '../support/eventually.js';
import { ModbusTcpGatePeer } from '../support/peers/modbus-tcp-gate.js';

/** The gate driver against a Modbus TCP gate written from the protocol document (no shared codec). */
describe('health gate against an independent Modbus TCP peer', () => {
  let peer: ModbusTcpGatePeer | undefined;
  let driver: DeviceDriver | undefined;

  afterEach(async () => {
    await driver?.stop();
    await peer?.close();
    driver = undefined;
    peer = undefined;
  });

  it('catches a sensor frozen across a reconnect while someone stands at the gate (critical alarm, device not available)', async () => {
    peer = await ModbusTcpGatePeer.start();
    const ctx = new RecordingContext();
    const options = healthGateKind.options.parse({
      modbus: { tcp: peer.address },
      pollMs: 30,
      timeoutMs: 250,
      frozenPolls: 5,
      policy: { requireHealthCode: false },
      gate: { openSeconds: 0.2 },
    });
    driver = healthGateKind.create('gate-1', options, ctx);
    await driver.start();
    await eventually(() => ctx.online() === true, 'gate online');
    expect(peer.holding[10]).toBe(373); // the fever threshold the driver wrote: the map is the document's

    // A person steps in and is measured; they stay (presence high) and the sensor then hangs.
    peer.presence = true;
    peer.measure(36.4);
    await eventually(() => ctx.decisions().length === 1, 'the measured person decided');
    expect(ctx.decisions()[0]).toMatchObject({ decision: 'pass', temperature: 36.4 });

    // The link drops and comes back to the hung sensor: presence never fell, the counter never moves.
    const connections = peer.connections;
    peer.dropConnections();
    await eventually(() => peer!.connections > connections, 'the driver reconnected');
    await eventually(() => ctx.alarms.find((a) => a.code === 'gate.sensor-frozen'), 'gate.sensor-frozen raised');
    expect(ctx.alarms.find((a) => a.code === 'gate.sensor-frozen')?.severity).toBe('critical');
    await eventually(() => ctx.online() === false, 'the device is reported not available');
    expect(ctx.lastState()).toMatchObject({ sensor: 'frozen', gate: 'shut' });

    // The sensor recovers: a new measurement moves the counter and everything clears.
    peer.measure(36.6);
    await eventually(() => ctx.clearedAlarms.includes('gate.sensor-frozen'), 'frozen alarm cleared');
    await eventually(() => ctx.online() === true, 'available again');
  });
});
