import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { silentLogger } from '../../src/platform/logger.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { testHallConfig } from '../support/hall-config.js';
import { freePort } from '../support/ports.js';

describe('daemon start-up', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('fails cleanly when a port is taken: nothing half-started stays open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hall-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve()));
    cleanup.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const taken = (squatter.address() as { port: number }).port;
    const mqttPort = await freePort();
    const config = (dashboardPort?: number) =>
      parseConfig(
        stringify({
          ...testHallConfig({ windows: 2, ws: false, extra: { mqtt: { tcp: { host: '127.0.0.1', port: mqttPort } } } }),
          stateDir: join(dir, 'state'),
          ...(dashboardPort ? { dashboard: { host: '127.0.0.1', port: dashboardPort } } : {}),
        }),
        join(dir, 'hall.yaml'),
        { deviceKinds: deviceKindSchemas() },
      );

    await expect(startDaemon({ config: config(taken), log: silentLogger() })).rejects.toThrow(/in use/i);

    // The same MQTT port and the same journal are free again for the next start.
    const daemon: RunningDaemon = await startDaemon({ config: config(), log: silentLogger() });
    cleanup.push(() => daemon.stop());
    expect(daemon.ports.tcp).toBe(mqttPort);
  });
});
