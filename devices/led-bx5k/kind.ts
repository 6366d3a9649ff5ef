import type { DeviceKind } from '../../src/device-contract/index.js';
import { LedBx5kDriver } from './driver.js';
import { ledBx5kKindInfo } from './info.js';
import type { LedBx5kOptions } from './options.js';

/** Window and hall LED displays on Onbon BX-5K controllers, one device per RS-485 line. */
export const ledBx5kKind: DeviceKind<LedBx5kOptions> = {
  ...ledBx5kKindInfo,
  create: (id, options, ctx) => new LedBx5kDriver(id, options, ctx),
};
