import { afterEach, describe, expect, it } from 'vitest';
import { healthGateKind } from '../../devices/health-gate/kind.js';
import { startGateSimulators, type GateSimulators } from '../../devices/health-gate/simulator.js';
import { RecordingContext, eventually } from '../../devices/health-gate/fake-context.js';
import type { DeviceDriver } from '../../src/device-contract/index.js';

describe('the demo entrance (startGateSimulators)', () => {
  let sims: GateSimulators | undefined;
  let driver: DeviceDriver | undefined;

  afterEach(async () => {
    await driver?.stop();
    await sims?.close();
  });

  it('sends visitors that the driver lets in through the simulated turnstile', async () => {
    // random() = 0.5: a normal temperature and a green code every time.
    sims = await startGateSimulators({ visitorEverySeconds: 0.4, random: () => 0.5 });
    const ctx = new RecordingContext();
    driver = healthGateKind.create('entrance', healthGateKind.options.parse({ ...sims.deviceOptions, pollMs: 50, gate: { openSeconds: 0.2 } }), ctx);
    await driver.start();
    await eventually(() => ctx.decisions().length >= 2, 'two visitors decided');
    expect(ctx.decisions()[0]).toEqual({ decision: 'pass', temperature: 36.6, colour: 'green' });
    expect(sims.gate.gateOpenings()).toBeGreaterThanOrEqual(1);
    expect(sims.describe()[0]).toContain(sims.gate.address);
  });
});
