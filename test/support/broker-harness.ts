import { PassThrough } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startBroker, type BrokerSettings, type RunningBroker } from '../../src/bus/broker.js';
import { hashPassword } from '../../src/bus/password.js';
import type { MqttUser } from '../../src/bus/users.js';
import { createLogger, silentLogger, type Logger } from '../../src/platform/logger.js';

/** A broker with one user per role, real clients, and cleanup: what the bus-broker tests share. */
export const HALL = 'test-hall';
export const BASE = `hall/${HALL}`;
export const PASSWORDS = { op: 'op-pass-1', obs: 'obs-pass-1', root: 'root-pass-1', 'kiosk-1': 'kiosk-pass-1' } as const;
export type Username = keyof typeof PASSWORDS;

export class BrokerHarness {
  readonly users: MqttUser[] = [
    { username: 'op', role: 'operator', passwordHash: hashPassword(PASSWORDS.op) },
    { username: 'obs', role: 'observer', passwordHash: hashPassword(PASSWORDS.obs) },
    { username: 'root', role: 'admin', passwordHash: hashPassword(PASSWORDS.root) },
    { username: 'kiosk-1', role: 'device', deviceId: 'kiosk-1', passwordHash: hashPassword(PASSWORDS['kiosk-1']) },
  ];
  readonly clients: MqttClient[] = [];
  readonly brokers: RunningBroker[] = [];

  settings(extra: Partial<BrokerSettings> = {}): BrokerSettings {
    return { hallId: HALL, tcp: { host: '127.0.0.1', port: 0 }, ws: { host: '127.0.0.1', port: 0 }, users: this.users, ...extra };
  }

  async start(extra: Partial<BrokerSettings> = {}, log: Logger = silentLogger()): Promise<RunningBroker> {
    const broker = await startBroker(this.settings(extra), log);
    this.brokers.push(broker);
    return broker;
  }

  async connect(url: string, username?: Username, options: IClientOptions = {}): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(username ? { username, password: PASSWORDS[username] } : {}),
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  /** Ends every client and broker this harness made (afterEach). */
  async cleanUp(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.endAsync(true)));
    await Promise.all(this.brokers.splice(0).map((b) => b.close()));
  }
}

export const tcpUrl = (b: RunningBroker): string => `mqtt://127.0.0.1:${b.ports.tcpPort}`;
export const wsUrl = (b: RunningBroker): string => `ws://127.0.0.1:${b.ports.wsPort}/mqtt`;

/** Resolves with the first message on `topic`. */
export function nextMessage(client: MqttClient, topic: string): Promise<{ payload: string; retain: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer, packet: { retain: boolean }) => {
      if (t !== topic) return;
      client.off('message', onMessage);
      resolve({ payload: payload.toString(), retain: packet.retain });
    };
    client.on('message', onMessage);
  });
}

/** Every message the client receives from now on, as "topic payload". */
export function collect(client: MqttClient): string[] {
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  return seen;
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/** A debug logger whose JSON lines the test can read. */
export function captureLog(): { log: Logger; lines: string[]; entries: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { log: createLogger({ destination: stream, level: 'debug' }), lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Publishes a sentinel and waits for it: once it arrives, anything published before it would have too. */
export async function sentinelThrough(watcher: MqttClient, publisher: MqttClient = watcher): Promise<void> {
  const topic = `${BASE}/device/kiosk-1/sentinel`;
  const arrived = nextMessage(watcher, topic);
  await publisher.publishAsync(topic, 'after', { qos: 1 });
  await arrived;
}
