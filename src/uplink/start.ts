import type { RunningBroker } from '../bus/broker.js';
import type { HallConfig } from '../config/schema.js';
import type { UplinkSection } from '../config/uplink-section.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../platform/logger.js';
import type { DeviceManager } from '../hall/device-manager.js';
import type { Hall } from '../hall/hall.js';
import type { MqttApi } from '../hall/mqtt-api.js';
import { Uplink } from './uplink.js';

export { Uplink } from './uplink.js';

/**
 * Wires the uplink into the daemon: woken by every committed command, its alarm among the hall's
 * alarms, its state in `health`. The wake-up only schedules work for a later turn of the loop.
 */
export async function startUplink(parts: {
  config: HallConfig;
  section: UplinkSection;
  hall: Hall;
  journal: Journal;
  broker: RunningBroker;
  devices: DeviceManager;
  api: MqttApi;
  log: Logger;
}): Promise<Uplink> {
  const { config, section, hall, journal, broker, devices, api, log } = parts;
  const uplink = new Uplink({
    section,
    hallId: config.hall.id,
    journal,
    stateDir: config.stateDir,
    localBroker: broker,
    alarms: devices.alarmsFor('uplink'),
    log: log.child({ component: 'uplink' }),
  });
  hall.bus.on('committed', () => uplink.wake());
  api.addHealth('uplink', () => uplink.health());
  await uplink.start();
  return uplink;
}
