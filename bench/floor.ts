import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { Journal } from '../src/journal/journal.js';
import { silentLogger } from '../src/platform/logger.js';
import { openPtyPair } from '../src/platform/pty-pair.js';
import type { HallEvent } from '../src/queue/events.js';
import { figures, type Figures } from './stats.js';

/**
 * The physical floor of the call-next loop on this box, measured without any of our code in the
 * way: the kernel's PTY layer plus socat's relay, one fsynced SQLite commit, and one broker
 * publish reaching a TCP subscriber. Anything the loop costs beyond their sum is ours.
 */

async function openPort(path: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined); // a bench port closing at the end is not news
  return port;
}

const closePort = (port: SerialPort) => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));

/** One-way PTY trip of `frame`: written at one end until every byte has arrived at the other. */
export async function ptyOneWay(frame: Buffer, samples: number, baudRate: number): Promise<Figures> {
  const pty = await openPtyPair();
  const sender = await openPort(pty.a, baudRate);
  const receiver = await openPort(pty.b, baudRate);
  try {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const arrived = new Promise<number>((resolve) => {
        let bytes = 0;
        const onData = (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes < frame.length) return;
          receiver.off('data', onData);
          resolve(performance.now());
        };
        receiver.on('data', onData);
      });
      const t0 = performance.now();
      sender.write(frame);
      times.push((await arrived) - t0);
    }
    return figures(times);
  } finally {
    await closePort(sender);
    await closePort(receiver);
    await pty.close();
  }
}

/** One event per fsynced transaction, in a fresh journal on the same file system as the rig's. */
export function journalCommit(samples: number): Figures {
  const dir = mkdtempSync(join(tmpdir(), 'floor-journal-'));
  const journal = Journal.open(join(dir, 'journal.db'), silentLogger());
  try {
    const times: number[] = [];
    const day = new Date().toISOString().slice(0, 10);
    for (let i = 0; i < samples; i++) {
      const event: HallEvent = { type: 'device.bench.sample', at: Date.now(), day, deviceId: 'bench', data: { i } };
      const t0 = performance.now();
      journal.append([event]);
      times.push(performance.now() - t0);
    }
    return figures(times);
  } finally {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
