import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { PressDebouncer } from './debounce.js';
import { gpiomonArgs, gpiosetHoldArgs, parseGpiodVersion, parseGpiomonLine, type GpiodMajor } from './gpiomon.js';
import { HeldGpioLine } from './line-holder.js';
import type { GpioBackend, GpioInput, GpioInputOptions, GpioOutput, GpioOutputOptions } from './gpio.js';

export interface ChardevOptions {
  /** Commands to run; tests point these at fake scripts. */
  gpiomon?: string;
  gpioset?: string;
  /** Skip `gpiomon --version` when known. */
  version?: GpiodMajor;
  log?: Logger;
}

const DEFAULT_DEBOUNCE_MS = 50;

/**
 * GPIO through the kernel's character device, using Debian's gpiod tools as child processes
 * (no native addon to build): one long-running `gpiomon` per input line, and one long-running
 * `gpioset` per output line that holds its value (line-holder.ts).
 * Debounce is ours (PressDebouncer on the kernel's event timestamps), because gpiomon v1 has none.
 */
export class ChardevGpioBackend implements GpioBackend {
  readonly name = 'chardev' as const;
  private version: GpiodMajor | undefined;
  private readonly log: Logger;

  constructor(private readonly options: ChardevOptions = {}) {
    this.version = options.version;
    this.log = options.log ?? silentLogger();
  }

  private async detectVersion(command: string): Promise<GpiodMajor> {
    if (this.version) return this.version;
    const output = await new Promise<string>((resolve, reject) =>
      execFile(command, ['--version'], { timeout: 5000 }, (err, stdout) => (err ? reject(new Error(`cannot run ${command} --version (is the gpiod package installed?): ${err.message}`)) : resolve(stdout))),
    );
    const version = parseGpiodVersion(output);
    if (!version) throw new Error(`unrecognised ${command} version: ${output.split('\n')[0]}`);
    this.version = version;
    return version;
  }

  async input(options: GpioInputOptions): Promise<GpioInput> {
    const command = this.options.gpiomon ?? 'gpiomon';
    const version = await this.detectVersion(command);
    const spec = { chip: options.chip ?? 'gpiochip0', line: options.line, activeLow: options.activeLow === true };
    const debouncer = new PressDebouncer(options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    const handlers = new Set<() => void>();
    const child: ChildProcess = spawn(command, gpiomonArgs(version, spec), { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = this.log.child({ gpio: `${spec.chip}:${spec.line}` });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on('error', (err) => log.error({ err }, `cannot run ${command}`));
    child.on('exit', (code, signal) => {
      if (!closing) log.error({ code, signal, stderr: stderr.trim() }, 'gpiomon exited: this button no longer works');
    });
    let closing = false;
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const event = parseGpiomonLine(version, text);
      if (!event || event.line !== spec.line) {
        if (text.trim()) log.debug({ text }, 'unparsed gpiomon line');
        return;
      }
      if (!debouncer.edge(event.active, event.atMs)) return;
      for (const handler of handlers) {
        try {
          handler();
        } catch (err) {
          log.error({ err }, 'button handler failed');
        }
      }
    });
    return {
      onPress(handler) {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
      close: () =>
        new Promise<void>((resolve) => {
          closing = true;
          handlers.clear();
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }

  async output(options: GpioOutputOptions): Promise<GpioOutput> {
    const command = this.options.gpioset ?? 'gpioset';
    const version = await this.detectVersion(command);
    const spec = { chip: options.chip ?? 'gpiochip0', line: options.line, activeLow: options.activeLow === true };
    return new HeldGpioLine(command, (active) => gpiosetHoldArgs(version, spec, active), this.log.child({ gpio: `${spec.chip}:${spec.line}` }));
  }
}
