import type { DeviceKind } from '../../src/device-contract/index.js';
import { DispenserDriver } from './driver.js';
import { dispenserKindInfo } from './info.js';
import type { DispenserOptions } from './options.js';

/** 取号机: buttons (GPIO) and kiosk/phone requests → queue → ESC/POS ticket printer; appointment check-in. */
export const dispenserKind: DeviceKind<DispenserOptions> = {
  ...dispenserKindInfo,
  create: (id, options, ctx) => new DispenserDriver(id, options, ctx),
};
