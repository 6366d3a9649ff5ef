import type { DeviceKind } from '../../src/device-contract/index.js';
import { CounterPadDriver } from './driver.js';
import { counterPadOptions, type CounterPadOptions } from './options.js';

/** Staff keypads with evaluator pads (呼叫器/评价器), one device per serial line of pads. */
export const counterPadKind: DeviceKind<CounterPadOptions> = {
  kind: 'counter-pad',
  description: 'Staff keypads with customer rating pads on an RS-485 line or serial port (firmware-protocols/counter-pad.md)',
  options: counterPadOptions,
  /** Pads report trouble per pad in the device state (online, refused keys), not as alarms. */
  alarms: [],
  exampleOptions: { port: '/dev/ttyUSB0', baudRate: 19200, pads: [{ address: 1, window: 'w1' }, { address: 2, window: 'w2' }] },
  create: (id, options, ctx) => new CounterPadDriver(id, options, ctx),
};
