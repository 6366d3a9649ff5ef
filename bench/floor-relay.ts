/**
 * The floor's "null daemon": a process that does only what any call-next loop on this box must
 * do, with none of hall-edge's logic. For every line that arrives on the keypad PTY it commits one
 * event to a journal (fsynced SQLite, as the daemon's), then writes a ready-made BX-5K frame to the
 * LED PTY and publishes one message through an aedes broker to the bench's subscriber. It opens its
 * ports with the same serial binding as the daemon and runs as its own Node process like the
 * daemon, so the floor pays the same process wake-ups, PTY relays and event-loop turns.
 *
 *   node dist/bench/floor-relay.js <pad-pty> <led-pty> <state-dir> <led-frame-hex>
 *
 * Prints `{"tcpPort": N}` once ready; SIGTERM stops it.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startBroker } from '../src/bus/broker.js';
import { hashPassword } from '../src/bus/password.js';
import { Journal } from '../src/journal/journal.js';
import { silentLogger } from '../src/platform/logger.js';
import { createSerialPort, type SerialPort } from '../src/platform/serial/serial-port.js';
import type { HallEvent } from '../src/queue/events.js';
import { TEST_USERS } from '../test/support/hall-config.js';

export const RELAY_HALL_ID = 'floor';
export const RELAY_TOPIC = `hall/${RELAY_HALL_ID}/event`;

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = createSerialPort({ path, baudRate: 57600 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

async function main(): Promise<void> {
  const [padPath, ledPath, stateDir, frameHex] = process.argv.slice(2);
  if (!padPath || !ledPath || !stateDir || !frameHex) throw new Error('usage: floor-relay <pad-pty> <led-pty> <state-dir> <led-frame-hex>');
  const log = silentLogger();
  const ledFrame = Buffer.from(frameHex, 'hex');
  const journal = Journal.open(join(stateDir, 'floor.db'), log);
  const { observer } = TEST_USERS;
  const broker = await startBroker(
    { hallId: RELAY_HALL_ID, tcp: { host: '127.0.0.1', port: 0 }, users: [{ username: observer.username, role: observer.role, passwordHash: hashPassword(observer.password) }] },
    log,
  );
  const pad = await open(padPath);
  const led = await open(ledPath);
  const day = new Date().toISOString().slice(0, 10);
  let pending = '';
  pad.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const event: HallEvent = { type: 'device.bench.sample', at: Date.now(), day, deviceId: 'floor', data: { line } };
      const [sequenced] = journal.append([event]);
      led.write(ledFrame);
      void broker.publish(RELAY_TOPIC, JSON.stringify({ seq: sequenced!.seq, line }), { qos: 1 });
    }
  });
  process.once('SIGTERM', () => {
    void (async () => {
      pad.close();
      led.close();
      await broker.close();
      journal.close();
      process.exit(0);
    })();
  });
  process.stdout.write(`${JSON.stringify({ tcpPort: broker.ports.tcpPort })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
