import type { DeviceKind } from '../../src/hall/device-api.js';
import { DispenserDriver } from './driver.js';
import { dispenserOptions, type DispenserOptions } from './options.js';

/** 取号机: buttons (GPIO) and kiosk/phone requests → queue → ESC/POS ticket printer; appointment check-in. */
export const dispenserKind: DeviceKind<DispenserOptions> = {
  kind: 'dispenser',
  description: 'ticket dispenser: GPIO buttons and MQTT requests, ESC/POS thermal printer, appointment reader',
  options: dispenserOptions,
  create: (id, options, ctx) => new DispenserDriver(id, options, ctx),
};
