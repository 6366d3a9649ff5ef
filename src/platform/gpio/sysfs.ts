import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { GpioBackend, GpioInput, GpioInputOptions, GpioOutput, GpioOutputOptions } from './gpio.js';

const DEFAULT_DEBOUNCE_MS = 50;

/** The slice of onoff's Gpio we use (typed here so tests can hand in a fake class). */
export interface OnoffGpio {
  watch(callback: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unwatchAll(): void;
  write(value: 0 | 1): Promise<void>;
  unexport(): void;
}
export interface OnoffModule {
  Gpio: {
    accessible: boolean;
    new (gpio: number, direction: 'in' | 'out', edge?: 'none' | 'rising' | 'falling' | 'both', options?: { debounceTimeout?: number; activeLow?: boolean }): OnoffGpio;
  };
}

async function loadOnoff(): Promise<OnoffModule> {
  const mod = (await import('onoff')) as unknown as OnoffModule & { default?: OnoffModule };
  return mod.default ?? mod;
}

/**
 * GPIO through the kernel's sysfs interface with onoff. onoff debounces itself
 * (debounceTimeout: the value is read once the line has been quiet that long) and applies
 * activeLow, so a press is a watch callback with value 1.
 */
export class SysfsGpioBackend implements GpioBackend {
  readonly name = 'sysfs' as const;
  private readonly log: Logger;

  constructor(private readonly options: { onoff?: OnoffModule; log?: Logger } = {}) {
    this.log = options.log ?? silentLogger();
  }

  private async gpioClass(): Promise<OnoffModule['Gpio']> {
    const onoff = this.options.onoff ?? (await loadOnoff());
    if (!onoff.Gpio.accessible) {
      throw new Error('sysfs GPIO is not available on this machine (/sys/class/gpio missing or not writable): use the "chardev" backend');
    }
    return onoff.Gpio;
  }

  async input(options: GpioInputOptions): Promise<GpioInput> {
    const Gpio = await this.gpioClass();
    const gpio = new Gpio(options.line, 'in', 'both', { debounceTimeout: options.debounceMs ?? DEFAULT_DEBOUNCE_MS, activeLow: options.activeLow === true });
    const handlers = new Set<() => void>();
    const log = this.log.child({ gpio: options.line });
    gpio.watch((err, value) => {
      if (err) return log.error({ err }, 'GPIO watch error');
      if (value !== 1) return;
      for (const handler of handlers) {
        try {
          handler();
        } catch (handlerErr) {
          log.error({ err: handlerErr }, 'button handler failed');
        }
      }
    });
    return {
      onPress(handler) {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
      close: async () => {
        handlers.clear();
        gpio.unwatchAll();
        gpio.unexport();
      },
    };
  }

  async output(options: GpioOutputOptions): Promise<GpioOutput> {
    const Gpio = await this.gpioClass();
    const gpio = new Gpio(options.line, 'out', 'none', { activeLow: options.activeLow === true });
    return {
      write: (active) => gpio.write(active ? 1 : 0),
      // An exported sysfs line keeps its value in the kernel without any process holding it.
      onLost: () => () => undefined,
      close: async () => gpio.unexport(),
    };
  }
}
