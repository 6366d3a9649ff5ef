import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import { openPtyPair, type PtyPair } from '../support/pty.js';
import { SerialLink, SerialLinkClosedError } from '../../src/platform/serial/index.js';
import { silentLogger } from '../../src/platform/logger.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A directory for PTYs that the test closes and reopens at the same paths; removed afterwards. */
function ownDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hall-pty-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function pair(dir?: string): Promise<PtyPair> {
  const p = await openPtyPair(dir);
  cleanups.push(() => p.close());
  return p;
}

async function deviceEnd(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  cleanups.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  return port;
}

function lineLink(path: string): SerialLink<string> {
  const link = new SerialLink<string>({
    path,
    baudRate: 57600,
    log: silentLogger(),
    framer: () => new ReadlineParser({ delimiter: '\n' }),
    minBackoffMs: 50,
    maxBackoffMs: 200,
    presenceCheckMs: 100,
  });
  cleanups.push(() => link.close());
  return link;
}

describe('SerialLink over a real PTY pair', () => {
  it('delivers frames from the framer and writes bytes to the device', async () => {
    const pty = await pair();
    const device = await deviceEnd(pty.b);
    const link = lineLink(pty.a);
    link.start();
    await link.whenOpen();
    expect(link.isOpen).toBe(true);

    const frames: string[] = [];
    link.on('frame', (frame) => frames.push(frame));
    const got = once(link, 'frame');
    device.write('hello\nwor');
    device.write('ld\n');
    await got;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(frames).toEqual(['hello', 'world']);

    const received = once(device, 'data');
    await link.write(Buffer.from('ping\n'));
    const [chunk] = (await received) as [Buffer];
    expect(chunk.toString()).toContain('ping');
    expect(link.stats.bytesOut).toBe(5);
  });

  it('keeps retrying while the port is absent and opens when it appears', async () => {
    const dir = ownDir();
    const link = lineLink(join(dir, 'host'));
    const failures: number[] = [];
    link.on('open-failed', (_err, retryInMs) => failures.push(retryInMs));
    link.start();
    while (failures.length < 2) await once(link, 'open-failed');
    expect(link.isOpen).toBe(false);
    await expect(link.write(Buffer.from('x'))).rejects.toBeInstanceOf(SerialLinkClosedError);
    await pair(dir);
    await link.whenOpen(3000);
    expect(failures[1]).toBeGreaterThan(failures[0]!);
  });

  it('on unplug emits close, retries with a new port object, and reopens by itself at the same path', async () => {
    const dir = ownDir();
    const first = await pair(dir);
    const link = lineLink(first.a);
    link.start();
    await link.whenOpen();

    const closed = once(link, 'close');
    await first.close();
    const [reason] = await closed;
    expect(reason).toBe('disconnected');
    expect(link.isOpen).toBe(false);
    await once(link, 'open-failed');

    const second = await pair(dir);
    await link.whenOpen(3000);
    expect(link.stats.opens).toBe(2);
    expect(link.stats.disconnects).toBe(1);

    // The new connection carries data both ways.
    const device = await deviceEnd(second.b);
    const frame = once(link, 'frame');
    device.write('again\n');
    expect((await frame)[0]).toBe('again');
  });

  it('close() stops reconnecting', async () => {
    const dir = ownDir();
    const link = lineLink(join(dir, 'host'));
    let opened = false;
    link.on('open', () => (opened = true));
    link.start();
    await once(link, 'open-failed');
    await link.close();
    await pair(dir);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(opened).toBe(false);
  });
});
