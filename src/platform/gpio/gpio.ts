/**
 * GPIO behind a small interface, because the kernel's sysfs GPIO interface (used by onoff) is
 * gone from recent Raspberry Pi OS kernels: a hall picks `sysfs` (onoff) or `chardev`
 * (the character-device interface through Debian's gpiod tools) in config.
 */
export type GpioBackendName = 'sysfs' | 'chardev';

export interface GpioInputOptions {
  /** Line offset (chardev) or BCM number (sysfs). */
  line: number;
  /** gpiochip name or path for chardev, e.g. "gpiochip0". */
  chip?: string;
  /** A pressed button reads 0 when wired to ground with a pull-up. */
  activeLow?: boolean;
  debounceMs?: number;
}

export interface GpioOutputOptions {
  line: number;
  chip?: string;
  activeLow?: boolean;
}

export interface GpioInput {
  /** Called once per debounced press (active edge). Returns an unsubscribe function. */
  onPress(handler: () => void): () => void;
  close(): Promise<void>;
}

/**
 * An output line that keeps the last value written until the next write or close: a relay on it
 * stays where the hall put it, not only for the instant of the write.
 */
export interface GpioOutput {
  write(active: boolean): Promise<void>;
  /** The line stopped being held by itself (its holder process died): the driver raises an alarm. */
  onLost(handler: (reason: string) => void): () => void;
  close(): Promise<void>;
}

export interface GpioBackend {
  readonly name: GpioBackendName;
  input(options: GpioInputOptions): Promise<GpioInput>;
  output(options: GpioOutputOptions): Promise<GpioOutput>;
}
