import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PressDebouncer } from '../../src/platform/gpio/debounce.js';
import { gpiomonArgs, gpiosetHoldArgs, parseGpiodVersion, parseGpiomonLine } from '../../src/platform/gpio/gpiomon.js';
import { ChardevGpioBackend } from '../../src/platform/gpio/chardev.js';
import { SysfsGpioBackend, type OnoffModule, type OnoffGpio } from '../../src/platform/gpio/sysfs.js';
import { createGpioBackend } from '../../src/platform/gpio/backend.js';
import type { GpioInput } from '../../src/platform/gpio/gpio.js';

describe('PressDebouncer', () => {
  it('turns a bouncing press and release into one press', () => {
    const d = new PressDebouncer(50);
    const edges: Array<[boolean, number]> = [[true, 1000], [false, 1002], [true, 1003], [false, 1004], [true, 1006], [false, 1200], [true, 1201], [false, 1203]];
    expect(edges.filter(([level, at]) => d.edge(level, at))).toHaveLength(1);
  });

  it('counts separate presses and a press whose release was missed', () => {
    const d = new PressDebouncer(30);
    expect(d.edge(true, 0)).toBe(true);
    expect(d.edge(false, 100)).toBe(false);
    expect(d.edge(true, 200)).toBe(true);
    expect(d.edge(true, 400)).toBe(true); // release bounced away: still a new press
  });
});

describe('gpiomon arguments and output', () => {
  it('builds v1 and v2 command lines', () => {
    expect(gpiomonArgs(1, { chip: 'gpiochip0', line: 17, activeLow: true })).toEqual(['--active-low', '--line-buffered', '--format=%o %e %s %n', 'gpiochip0', '17']);
    expect(gpiomonArgs(2, { chip: 'gpiochip1', line: 4, activeLow: false })).toEqual(['--chip', 'gpiochip1', '--format=%o %E %S', '4']);
  });

  it('builds gpioset command lines that hold the line until SIGTERM (v1 signal mode, v2 by default)', () => {
    expect(gpiosetHoldArgs(1, { chip: 'gpiochip0', line: 5, activeLow: true }, true)).toEqual(['--mode=signal', '--active-low', 'gpiochip0', '5=1']);
    expect(gpiosetHoldArgs(2, { chip: 'gpiochip1', line: 5, activeLow: false }, false)).toEqual(['--chip', 'gpiochip1', '--consumer', 'hall-edge', '5=0']);
  });

  it('parses event lines and versions, and ignores junk', () => {
    expect(parseGpiomonLine(1, '17 1 1700000000 500000000')).toEqual({ line: 17, active: true, atMs: 1700000000500 });
    expect(parseGpiomonLine(1, '17 0 5 0')).toEqual({ line: 17, active: false, atMs: 5000 });
    expect(parseGpiomonLine(2, '4 falling 12.250000000')).toEqual({ line: 4, active: false, atMs: 12250 });
    expect(parseGpiomonLine(1, 'event: RISING EDGE offset: 17')).toBeUndefined();
    expect(parseGpiomonLine(2, '4 sideways 1.0')).toBeUndefined();
    expect(parseGpiodVersion('gpiomon (libgpiod) v1.6.3\nCopyright')).toBe(1);
    expect(parseGpiodVersion('gpiomon (libgpiod) v2.1')).toBe(2);
    expect(parseGpiodVersion('nonsense')).toBeUndefined();
  });
});

describe('chardev backend with a fake gpiomon', () => {
  const inputs: GpioInput[] = [];
  afterEach(async () => {
    while (inputs.length > 0) await inputs.pop()!.close();
  });

  it('runs gpiomon with our arguments and reports debounced presses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpiomon-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'gpiomon');
    const argsFile = join(dir, 'args');
    // Prints a bouncing press, a junk line, a second press, then stays alive like gpiomon.
    writeFileSync(
      script,
      `#!/bin/sh
if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v1.6.3"; exit 0; fi
echo "$@" > ${argsFile}
echo "17 1 100 0"
echo "17 0 100 2000000"
echo "17 1 100 4000000"
echo "garbage line"
echo "17 0 100 300000000"
echo "17 1 101 0"
exec sleep 30
`,
    );
    chmodSync(script, 0o755);
    const backend = new ChardevGpioBackend({ gpiomon: script });
    const input = await backend.input({ line: 17, chip: 'gpiochip0', activeLow: true, debounceMs: 20 });
    inputs.push(input);
    let presses = 0;
    const two = new Promise<void>((resolve) =>
      input.onPress(() => {
        presses += 1;
        if (presses === 2) resolve();
      }),
    );
    await two;
    expect(readFileSync(argsFile, 'utf8').trim()).toBe('--active-low --line-buffered --format=%o %e %s %n gpiochip0 17');
    await input.close();
    expect(presses).toBe(2);
  });

  it('fails clearly when gpiomon cannot be run', async () => {
    const backend = createGpioBackend('chardev', { chardev: { gpiomon: '/nonexistent/gpiomon' } });
    await expect(backend.input({ line: 1 })).rejects.toThrow(/gpiod package/);
  });
});

describe('sysfs backend', () => {
  it('refuses clearly when sysfs GPIO is not there (as on this machine)', async () => {
    await expect(createGpioBackend('sysfs').input({ line: 17 })).rejects.toThrow(/chardev/);
  });

  it('wires onoff: edge both, debounce, activeLow, press on value 1', async () => {
    const made: Array<{ args: unknown[]; gpio: OnoffGpio & { fire(v: 0 | 1): void; unexported: boolean } }> = [];
    class FakeGpio {
      static accessible = true;
      private cb: ((err: Error | null | undefined, value: 0 | 1) => void) | undefined;
      unexported = false;
      constructor(...args: unknown[]) {
        made.push({ args, gpio: this as unknown as (typeof made)[number]['gpio'] });
      }
      watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void {
        this.cb = cb;
      }
      unwatchAll(): void {
        this.cb = undefined;
      }
      async write(): Promise<void> {}
      unexport(): void {
        this.unexported = true;
      }
      fire(value: 0 | 1): void {
        this.cb?.(null, value);
      }
    }
    const backend = new SysfsGpioBackend({ onoff: { Gpio: FakeGpio } as unknown as OnoffModule });
    const input = await backend.input({ line: 22, activeLow: true, debounceMs: 40 });
    let presses = 0;
    input.onPress(() => (presses += 1));
    made[0]!.gpio.fire(1);
    made[0]!.gpio.fire(0);
    made[0]!.gpio.fire(1);
    expect(presses).toBe(2);
    expect(made[0]!.args).toEqual([22, 'in', 'both', { debounceTimeout: 40, activeLow: true }]);
    await input.close();
    expect(made[0]!.gpio.unexported).toBe(true);
  });
});
