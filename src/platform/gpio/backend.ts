import type { Logger } from '../logger.js';
import { ChardevGpioBackend, type ChardevOptions } from './chardev.js';
import type { GpioBackend, GpioBackendName } from './gpio.js';
import { SysfsGpioBackend } from './sysfs.js';

/** The GPIO backend a hall's config names. */
export function createGpioBackend(name: GpioBackendName, options: { log?: Logger; chardev?: ChardevOptions } = {}): GpioBackend {
  switch (name) {
    case 'sysfs':
      return new SysfsGpioBackend({ log: options.log });
    case 'chardev':
      return new ChardevGpioBackend({ ...options.chardev, log: options.log });
    default:
      throw new Error(`unknown GPIO backend "${String(name)}" (use "sysfs" or "chardev")`);
  }
}
