import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectMqtt } from '../src/bus/client.js';
import { TEST_USERS } from '../test/support/hall-config.js';
import { RELAY_TOPIC } from './floor-relay.js';
import { createSerialPort, type SerialPort } from '../src/platform/serial/serial-port.js';
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
  const port = createSerialPort({ path, baudRate, autoOpen: false });
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
  return figures(journalCommitTimes(samples));
}

/**
 * How far apart two things measured right next to each other are when they are the SAME thing:
 * the differences of back-to-back pairs (later − earlier and earlier − later alternating, as the
 * paired verdict alternates which goes first). What the paired rule would give a daemon that
 * costs exactly its floor: the box's own noise, below which no software change can take a figure.
 */
export function selfPairedDifferences(times: readonly number[]): number[] {
  const differences: number[] = [];
  for (let i = 0; i + 1 < times.length; i += 2) differences.push((i / 2) % 2 === 0 ? times[i + 1]! - times[i]! : times[i]! - times[i + 1]!);
  return differences;
}

/** The times of `samples` commits as journalCommit makes them. */
export function journalCommitTimes(samples: number): number[] {
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
    return times;
  } finally {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RelayFloor {
  /** Pad frame written → LED frame fully read at the display's end of its PTY. */
  led: Figures;
  /** Pad frame written → the relay's MQTT message received. */
  mqtt: Figures;
  /** Pad frame written → both arrived: the floor of the loop's "both" figure. */
  both: Figures;
}

export interface RelayTimes {
  led: number[];
  mqtt: number[];
  both: number[];
}

export interface RelaySession {
  /** Runs `count` trips one after another and appends their times. */
  measure(count: number, into: RelayTimes): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole loop's floor, shaped like the loop itself: a pad frame written into one PTY, a
 * separate Node process (floor-relay.ts) that commits to a journal and answers with a BX-5K frame
 * on a second PTY and an MQTT message through aedes, both read by this process. It pays what the
 * loop pays (socat relays, a second process waking twice, one fsync, one publish) and nothing of
 * hall-edge's logic, so end-to-end minus this is what our processing adds.
 */
export async function startRelayFloor(padFrame: Buffer, ledFrame: Buffer): Promise<RelaySession> {
  const padPty = await openPtyPair();
  const ledPty = await openPtyPair();
  const stateDir = mkdtempSync(join(tmpdir(), 'floor-relay-'));
  const script = join(dirname(fileURLToPath(import.meta.url)), 'floor-relay.js');
  const relay = spawn(process.execPath, [script, padPty.a, ledPty.a, stateDir, ledFrame.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => relay.once('exit', () => resolve()));
  const cleanups: Array<() => Promise<void> | void> = [
    async () => {
      relay.kill('SIGTERM');
      await exited;
    },
    () => padPty.close(),
    () => ledPty.close(),
    () => rmSync(stateDir, { recursive: true, force: true }),
  ];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0)) {
      try {
        await cleanup();
      } catch {
        // the next part still has to be cleaned up
      }
    }
  };
  try {
    const tcpPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      relay.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const newline = out.indexOf('\n');
        if (newline >= 0) resolve((JSON.parse(out.slice(0, newline)) as { tcpPort: number }).tcpPort);
      });
      relay.once('exit', (code) => reject(new Error(`floor relay exited with ${code} before it was ready`)));
    });
    const pad = await openPort(padPty.b, 19200);
    const led = await openPort(ledPty.b, 57600);
    cleanups.unshift(() => closePort(pad), () => closePort(led));
    const observer = await connectMqtt(`mqtt://127.0.0.1:${tcpPort}`, { username: TEST_USERS.observer.username, password: TEST_USERS.observer.password, reconnectPeriod: 0 });
    cleanups.unshift(() => observer.endAsync(true));
    await observer.subscribeAsync(RELAY_TOPIC, { qos: 1 });

    let onLed: ((at: number) => void) | undefined;
    let onMqtt: ((at: number) => void) | undefined;
    let ledBytes = 0;
    led.on('data', (chunk: Buffer) => {
      ledBytes += chunk.length;
      if (ledBytes < ledFrame.length) return;
      ledBytes -= ledFrame.length;
      onLed?.(performance.now());
    });
    observer.on('message', () => onMqtt?.(performance.now()));

    const measure = async (count: number, into: RelayTimes): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const ledAt = new Promise<number>((resolve) => (onLed = resolve));
        const mqttAt = new Promise<number>((resolve) => (onMqtt = resolve));
        const t0 = performance.now();
        pad.write(padFrame);
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a floor relay trip did not complete in 10 s')), 10_000).unref());
        const [l, m] = await Promise.race([Promise.all([ledAt, mqttAt]), timeout]);
        into.led.push(l - t0);
        into.mqtt.push(m - t0);
        into.both.push(Math.max(l, m) - t0);
      }
    };
    return { measure, close };
  } catch (err) {
    await close();
    throw err;
  }
}
