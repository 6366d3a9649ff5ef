import type { DeviceKindInfo } from '../../src/device-contract/index.js';
import { gateBridgeRequests } from './bridge-requests.js';
import { GATE_ALARMS } from './alarms.js';
import { healthGateOptionsSchema, type HealthGateOptions } from './options.js';

/** The health-gate kind without its driver: config validation and the alarm catalog read this (devices/registry.ts). */
export const healthGateKindInfo: DeviceKindInfo<HealthGateOptions> = {
  kind: 'health-gate',
  description: 'Entrance health gate: temperature over Modbus RTU/TCP, health-code scanner, turnstile and alarm',
  options: healthGateOptionsSchema,
  alarms: Object.values(GATE_ALARMS),
  bridgeRequests: gateBridgeRequests,
  exampleOptions: {
    modbus: { rtu: { port: '/dev/ttyUSB2', baudRate: 9600, parity: 'even' } },
    registers: { bits: { presence: 0 } },
    scanner: { port: '/dev/ttyACM1', rules: [{ match: '^HC:(G|Y|R):', map: { G: 'green', Y: 'yellow', R: 'red' } }, { json: 'color' }] },
    policy: { feverThreshold: 37.3 },
    gate: { output: { gpio: { line: 5, chip: 'gpiochip0' } }, openSeconds: 3 },
  },
};
