import type { DeviceKindInfo } from '../../src/device-contract/index.js';
import { LED_ALARMS } from './alarms.js';
import { ledBx5kOptions, type LedBx5kOptions } from './options.js';

/** The led-bx5k kind without its driver: config validation and the alarm catalog read this (devices/registry.ts). */
export const ledBx5kKindInfo: DeviceKindInfo<LedBx5kOptions> = {
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
};
