import { GATE_ALARMS } from './alarms.js';
import type { DeviceKind } from '../../src/device-contract/index.js';
import { HealthGateDriver, type GpioBackendProvider } from './driver.js';
import { healthGateOptionsSchema, type HealthGateOptions } from './options.js';

/**
 * The entrance health gate as a device kind. `healthGateKind` drives the turnstile through the
 * gate's own Modbus coil; a hall whose turnstile hangs on a box GPIO needs the kind made with
 * the platform's GPIO backends (`createHealthGateKind({ gpio })`).
 */
export function createHealthGateKind(deps: { gpio?: GpioBackendProvider } = {}): DeviceKind<HealthGateOptions> {
  return {
    kind: 'health-gate',
    description: 'Entrance health gate: temperature over Modbus RTU/TCP, health-code scanner, turnstile and alarm',
    options: healthGateOptionsSchema,
    alarms: Object.values(GATE_ALARMS),
    exampleOptions: {
      modbus: { rtu: { port: '/dev/ttyUSB2', baudRate: 9600, parity: 'even' } },
      registers: { bits: { presence: 0 } },
      scanner: { port: '/dev/ttyACM1', rules: [{ match: '^HC:(G|Y|R):', map: { G: 'green', Y: 'yellow', R: 'red' } }, { json: 'color' }] },
      policy: { feverThreshold: 37.3 },
      gate: { output: { gpio: { line: 5, chip: 'gpiochip0' } }, openSeconds: 3 },
    },
    create: (id, options, ctx) => new HealthGateDriver(id, options, ctx, deps.gpio),
  };
}

export const healthGateKind: DeviceKind<HealthGateOptions> = createHealthGateKind();
