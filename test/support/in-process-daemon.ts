import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { MqttClient } from 'mqtt';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { silentLogger } from '../../src/platform/logger.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { testHallConfig, TEST_USERS, type TestHallOptions } from './hall-config.js';
import { connect, Requester } from './daemon-process.js';

export interface TestDaemon {
  daemon: RunningDaemon;
  dir: string;
  base: string;
  /** An operator client with a request helper, connected over TCP. */
  operator: { client: MqttClient; requester: Requester };
  connectAs(user: keyof typeof TEST_USERS, transport?: 'tcp' | 'ws'): Promise<MqttClient>;
  close(): Promise<void>;
}

/** The real daemon in this process (real journal, broker and API) on free ports and a temp dir. */
export async function startTestDaemon(options: TestHallOptions & { now?: () => number; dir?: string } = {}): Promise<TestDaemon> {
  // A given dir is a restart of the hall that ran there: its state is kept, and left for the caller to remove.
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hall-edge-it-'));
  const raw = { ...testHallConfig(options), stateDir: join(dir, 'state') };
  const config = parseConfig(stringify(raw), join(dir, 'hall.yaml'), { deviceKinds: deviceKindSchemas() });
  const daemon = await startDaemon({ config, log: silentLogger(), now: options.now });
  const clients: MqttClient[] = [];
  const connectAs = async (user: keyof typeof TEST_USERS, transport: 'tcp' | 'ws' = 'tcp') => {
    const u = TEST_USERS[user];
    const url = transport === 'tcp' ? `mqtt://127.0.0.1:${daemon.ports.tcp}` : `ws://127.0.0.1:${daemon.ports.ws}/mqtt`;
    const client = await connect(url, u.username, u.password);
    clients.push(client);
    return client;
  };
  const base = `hall/${config.hall.id}`;
  const client = await connectAs('operator');
  const requester = new Requester(client, base);
  await requester.ready();
  return {
    daemon,
    dir,
    base,
    operator: { client, requester },
    connectAs,
    close: async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await daemon.stop();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
