import type { DeviceKind } from '../../src/hall/device-api.js';
import { LedBx5kDriver } from './driver.js';
import { ledBx5kOptions, type LedBx5kOptions } from './options.js';

/** Window and hall LED displays on Onbon BX-5K controllers, one device per RS-485 line. */
export const ledBx5kKind: DeviceKind<LedBx5kOptions> = {
  kind: 'led-bx5k',
  description: 'Window and hall LED displays on Onbon BX-5K controllers over RS-485 (firmware-protocols/led-bx5k.md)',
  options: ledBx5kOptions,
  create: (id, options, ctx) => new LedBx5kDriver(id, options, ctx),
};
