import { afterEach, describe, expect, it } from 'vitest';
import { createSerialPort, type SerialPort } from '../../src/platform/serial/serial-port.js';
import { openWireLine, wireMs, type WireLine } from '../../bench/wire-relay.js';
import { eventually } from '../support/eventually.js';

/** The benchmark's paced serial line (bench/wire-relay.ts): what goes in one end comes out the other, whole and in order. */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const open = (path: string, baudRate: number) =>
  new Promise<SerialPort>((resolve, reject) => {
    const port = createSerialPort({ path, baudRate }, (err) => (err ? reject(err) : resolve(port)));
    cleanups.push(() => new Promise<void>((done) => (port.isOpen ? port.close(() => done()) : done())));
  });

describe('wire relay (bench)', () => {
  it('hands on many small chunks in the order they were written, each at its wire time', async () => {
    const baud = 57600;
    const wire: WireLine = await openWireLine({ baud, turnaroundMs: 1 });
    cleanups.push(() => wire.close());
    const host = await open(wire.host, baud);
    const device = await open(wire.device, baud);
    const received: Buffer[] = [];
    device.on('data', (chunk: Buffer) => received.push(chunk));
    // Chunks of 1..23 bytes written one turn apart, so the relay reads them one by one: the short
    // tail of one chunk and the head of the next end less than a millisecond apart on the wire.
    const sent: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const chunk = Buffer.alloc(1 + (i % 23), i % 256);
      sent.push(chunk);
      host.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = Buffer.concat(sent);
    await eventually(() => Buffer.concat(received).length >= expected.length, 'all bytes through');
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    expect(wire.busyWithin(0, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(wireMs(expected.length, baud) - 0.001);
  });
});
