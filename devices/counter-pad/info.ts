import type { DeviceKindInfo } from '../../src/device-contract/index.js';
import { counterPadOptions, type CounterPadOptions } from './options.js';

/** The counter-pad kind without its driver: config validation and the alarm catalog read this (devices/registry.ts). */
export const counterPadKindInfo: DeviceKindInfo<CounterPadOptions> = {
  kind: 'counter-pad',
  description: 'Staff keypads with customer rating pads on an RS-485 line or serial port (firmware-protocols/counter-pad.md)',
  options: counterPadOptions,
  /** Pads report trouble per pad in the device state (online, refused keys), not as alarms. */
  alarms: [],
  exampleOptions: { port: '/dev/ttyUSB0', baudRate: 19200, pads: [{ address: 1, window: 'w1' }, { address: 2, window: 'w2' }] },
};
