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

/** One backend of each name, made on first use: what a DeviceContext hands its drivers. */
export class GpioBackends {
  private readonly made = new Map<GpioBackendName, GpioBackend>();

  constructor(private readonly log?: Logger) {}

  get(name: GpioBackendName): GpioBackend {
    let backend = this.made.get(name);
    if (!backend) {
      backend = createGpioBackend(name, { log: this.log });
      this.made.set(name, backend);
    }
    return backend;
  }
}
