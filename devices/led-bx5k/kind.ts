import { LED_ALARMS } from './alarms.js';
import type { DeviceKind } from '../../src/device-contract/index.js';
import { LedBx5kDriver } from './driver.js';
import { ledBx5kOptions, type LedBx5kOptions } from './options.js';

/** Window and hall LED displays on Onbon BX-5K controllers, one device per RS-485 line. */
export const ledBx5kKind: DeviceKind<LedBx5kOptions> = {
  kind: 'led-bx5k',
  description: 'Window and hall LED displays on Onbon BX-5K controllers over RS-485 (firmware-protocols/led-bx5k.md)',
  options: ledBx5kOptions,
  alarms: Object.values(LED_ALARMS),
  exampleOptions: {
    port: '/dev/ttyUSB3',
    displays: [
      { address: 1, window: 'w1', role: 'window', width: 64, height: 16 },
      { address: 100, role: 'hall', width: 192, height: 64, font: '\\FO000' },
    ],
  },
  create: (id, options, ctx) => new LedBx5kDriver(id, options, ctx),
};
