import { hashPassword } from '../../src/bus/password.js';
import { testHallConfig } from './hall-config.js';

/** The notification gateways' logins of the notify tests (device users: deviceId = gateway id). */
export const GATEWAYS = {
  'sms-1': { username: 'sms-1', password: 'sms-gateway-secret-1' },
  'sms-2': { username: 'sms-2', password: 'sms-gateway-secret-2' },
} as const;

let hashes: Record<string, string> | undefined;

/** The test hall with a `notify:` section and the gateways' users added. */
export function notifyHallConfig(notify: Record<string, unknown> = {}, windows = 4): Record<string, unknown> {
  const raw = testHallConfig({ windows, ws: false });
  hashes ??= Object.fromEntries(Object.values(GATEWAYS).map((g) => [g.username, hashPassword(g.password)]));
  const gatewayUsers = Object.values(GATEWAYS).map((g) => ({ username: g.username, role: 'device', deviceId: g.username, passwordHash: hashes![g.username] }));
  return {
    ...raw,
    users: [...(raw.users as unknown[]), ...gatewayUsers],
    notify: { gateways: ['sms-1'], ...notify },
  };
}
