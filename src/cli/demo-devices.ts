import type { Logger } from '../platform/logger.js';
import type { HallConfig } from '../config/schema.js';
import type { DeviceConfigEntry } from '../hall/device-manager.js';
import type { RunningDaemon } from '../hall/daemon.js';

export interface DemoDevices {
  /** Device entries to add to the demo config (drivers attached to the simulators). */
  deviceEntries: DeviceConfigEntry[];
  afterDaemonStarted(daemon: RunningDaemon): Promise<void>;
  describe(): string[];
  stop(): Promise<void>;
}

/** Simulated hardware for the demo hall. */
export async function startDemoDevices(_options: { config: HallConfig; stateDir: string; log: Logger; speed: number }): Promise<DemoDevices> {
  return {
    deviceEntries: [],
    afterDaemonStarted: async () => {},
    describe: () => [],
    stop: async () => {},
  };
}
