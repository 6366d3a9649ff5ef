import type { HallConfig } from '../config/schema.js';
import type { Logger } from '../platform/logger.js';
import { GatewaySimulator } from '../notify/gateway-simulator.js';

/**
 * The demo's notification gateway: what an SMS modem or an app's push service would be, as a
 * `device` login on the hall's broker. It "sends" every notice as a log line with the number
 * masked ("simulated gateway sent: ..."). Started with or without the simulated hardware, since
 * it stands for a service outside the hall.
 */
export async function startDemoGateway(config: HallConfig, url: string, credentials: ReadonlyArray<{ username: string; password: string }>, log: Logger): Promise<GatewaySimulator | undefined> {
  const gatewayId = config.notify?.gateways[0];
  const login = credentials.find((c) => c.username === gatewayId);
  if (!gatewayId || !login) return undefined;
  return GatewaySimulator.start({ url, hallId: config.hall.id, gatewayId, username: login.username, password: login.password, log: log.child({ sim: 'notify-gateway' }) });
}
