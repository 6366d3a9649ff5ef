import { describe, expect, it } from 'vitest';
import { dispenserOptions } from './options.js';
import { dispenserKind } from './kind.js';

describe('dispenser options', () => {
  it('fills defaults for a minimal config', () => {
    const options = dispenserOptions.parse({ printer: { interface: 'tcp://10.0.0.5:9100' } });
    expect(options.printer).toMatchObject({ type: 'epson', statusPollMs: 2000, confirmTimeoutMs: 5000 });
    expect(options.buttons).toEqual([]);
    expect(options.appointments).toEqual({ earlyMinutes: 30, lateMinutes: 15 });
    expect(dispenserKind.kind).toBe('dispenser');
  });

  it('accepts a device file and a serial port, and refuses nonsense with a readable message', () => {
    expect(dispenserOptions.parse({ printer: { interface: '/dev/usb/lp0' } }).printer.interface).toBe('/dev/usb/lp0');
    expect(dispenserOptions.parse({ printer: { interface: { serial: '/dev/ttyUSB0' } } }).printer.interface).toEqual({ serial: '/dev/ttyUSB0', baudRate: 9600 });
    const bad = dispenserOptions.safeParse({ printer: { interface: 'http://printer' }, buttons: [{ service: 'ss', gpio: { backend: 'spi', line: 1 } }] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('tcp://host:port');
  });
});
