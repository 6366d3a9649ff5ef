import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { SerialPort as NativeSerialPort } from 'serialport';
import { openPtyPair, type PtyPair } from '../support/pty.js';
import { eventually } from '../support/eventually.js';
import { createSerialPort, EventLoopBinding, serialBinding, type SerialPort } from '../../src/platform/serial/index.js';

/**
 * The event-loop serial binding (src/platform/serial/event-loop-binding.ts) against real PTYs,
 * with the native serialport binding on the other end where that matters: bytes arrive intact
 * and in order both ways, a write far larger than the tty buffer waits for room instead of
 * failing, closing our own port is not a disconnect, and a vanished device is one.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(): Promise<PtyPair> {
  const p = await openPtyPair();
  cleanups.push(() => p.close());
  return p;
}

function close(port: { isOpen: boolean; close(cb: () => void): void }): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

async function ours(path: string): Promise<SerialPort> {
  const port = createSerialPort({ path, baudRate: 57600, autoOpen: false });
  port.on('error', () => undefined); // the tests look at 'close' and at write callbacks
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  cleanups.push(() => close(port));
  return port;
}

async function native(path: string): Promise<NativeSerialPort> {
  const port = new NativeSerialPort({ path, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  cleanups.push(() => close(port));
  return port;
}

function collect(port: { on(event: 'data', listener: (chunk: Buffer) => void): unknown }): Buffer[] {
  const chunks: Buffer[] = [];
  port.on('data', (chunk: Buffer) => chunks.push(chunk));
  return chunks;
}

const received = (chunks: Buffer[]): number => chunks.reduce((n, c) => n + c.length, 0);

/** Lets the paused far end read again; the held-up write then completes and every byte arrives, in order. */
async function expectAllAtDevice(device: SerialPort, written: Promise<void>, big: Buffer): Promise<void> {
  const atDevice = collect(device);
  device.resume();
  await written;
  await eventually(() => received(atDevice) === big.length, 'the whole write at the far end', 10_000);
  expect(Buffer.concat(atDevice).equals(big)).toBe(true);
}

describe('event-loop serial binding over real PTYs', () => {
  it('is the binding on Linux', () => {
    expect(serialBinding()).toBe(process.platform === 'linux' ? EventLoopBinding : serialBinding());
  });

  it('carries bytes intact and in order both ways, to and from the native binding', async () => {
    const pty = await pair();
    const host = await ours(pty.a);
    const device = await native(pty.b);
    const atDevice = collect(device);
    const atHost = collect(host);
    const frames = Array.from({ length: 50 }, (_, i) => Buffer.concat([Buffer.from([0xa5, i]), randomBytes(40), Buffer.from([0x5a])]));
    for (const frame of frames) host.write(frame);
    device.write(Buffer.concat(frames));
    const total = frames.reduce((n, f) => n + f.length, 0);
    await eventually(() => received(atDevice) === total && received(atHost) === total, 'every byte both ways');
    expect(Buffer.concat(atDevice)).toEqual(Buffer.concat(frames));
    expect(Buffer.concat(atHost)).toEqual(Buffer.concat(frames));
  });

  it('waits for room when a write is larger than the tty buffer, and loses nothing', async () => {
    const pty = await pair();
    const host = await ours(pty.a);
    const device = await ours(pty.b);
    const big = randomBytes(256 * 1024); // PTY buffers hold a few KiB
    device.pause(); // the far end reads nothing for a while: the kernel buffers fill up
    const written = new Promise<void>((resolve, reject) => host.write(big, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expectAllAtDevice(device, written, big);
  });

  it('a write waiting for room still completes when the same port reads meanwhile', async () => {
    const pty = await pair();
    const host = await ours(pty.a);
    const device = await ours(pty.b);
    host.pause();
    device.pause();
    // Bytes for the host wait in its tty buffer (they are past socat before the host writes,
    // since socat stops relaying while its write towards the paused device blocks).
    device.write(Buffer.from('ping\n'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const big = randomBytes(256 * 1024);
    let done = false;
    const written = new Promise<void>((resolve, reject) =>
      host.write(big, (err) => {
        done = true;
        return err ? reject(err) : resolve();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false); // the write is waiting for room
    // The host now reads while its write waits: reading must not cancel the wait for room.
    const atHost = collect(host);
    host.resume();
    await eventually(() => received(atHost) === 5, 'the ping at the host');
    await expectAllAtDevice(device, written, big);
  });

  it('closing the port with a read pending is a plain close, not a disconnect or an error', async () => {
    const pty = await pair();
    const host = await ours(pty.a);
    collect(host); // a read is now waiting on the poller
    const errors: Error[] = [];
    host.removeAllListeners('error');
    host.on('error', (err) => errors.push(err));
    const closed = once(host, 'close') as Promise<[(Error & { disconnected?: boolean }) | null]>;
    host.close();
    const [err] = await closed;
    expect(err ?? null).toBeNull();
    expect(errors).toEqual([]);
  });

  it('reports a device that vanished (the PTY pair killed) as a disconnect', async () => {
    const pty = await openPtyPair();
    const host = await ours(pty.a);
    collect(host);
    host.on('error', () => undefined);
    const closed = once(host, 'close') as Promise<[(Error & { disconnected?: boolean }) | null]>;
    await pty.close();
    const [err] = await closed;
    expect(err?.disconnected).toBe(true);
  });
});
