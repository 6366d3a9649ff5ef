import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/bus/password.js';

export const TEST_USERS = {
  operator: { username: 'op', password: 'operator-secret-1', role: 'operator' },
  observer: { username: 'central', password: 'observer-secret-1', role: 'observer' },
  admin: { username: 'root', password: 'admin-secret-1', role: 'admin' },
  device: { username: 'kiosk-1', password: 'device-secret-1', role: 'device', deviceId: 'kiosk-1' },
} as const;

let hashes: Record<string, string> | undefined;
function userHashes(): Record<string, string> {
  hashes ??= Object.fromEntries(Object.values(TEST_USERS).map((u) => [u.username, hashPassword(u.password)]));
  return hashes;
}

export interface TestHallOptions {
  windows?: number;
  hallId?: string;
  devices?: unknown[];
  extra?: Record<string, unknown>;
  ws?: boolean;
}

/**
 * A hall config for tests, open around the clock, whose business day starts twelve hours from
 * now in UTC, so a test never straddles a day rollover whatever time CI runs it. Ports are 0:
 * the daemon logs the ports it got.
 */
export function testHallConfig(options: TestHallOptions = {}): Record<string, unknown> {
  const windows = options.windows ?? 8;
  const dayStartsAt = `${String((new Date().getUTCHours() + 12) % 24).padStart(2, '0')}:00`;
  const serviceIds = ['social-security', 'medical-insurance', 'retirement'];
  return {
    hall: {
      id: options.hallId ?? 'test-hall',
      name: { zh: '测试大厅', en: 'Test hall' },
      timeZone: 'UTC',
      dayStartsAt,
      openDays: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
      openingHours: { open: '00:00', close: '24:00' },
    },
    queue: { recallLimit: 2, enforceWindowSchedule: false },
    services: [
      { id: 'social-security', prefix: 'A', name: { zh: '社保通办', en: 'Social security' } },
      { id: 'medical-insurance', prefix: 'B', name: { zh: '医保通办', en: 'Medical insurance' } },
      { id: 'retirement', prefix: 'C', name: { zh: '退休', en: 'Retirement' } },
    ],
    windows: Array.from({ length: windows }, (_, i) => ({
      id: `w${String(i + 1).padStart(2, '0')}`,
      number: i + 1,
      skills: i % 3 === 2 ? ['retirement', 'social-security'] : i % 3 === 1 ? ['medical-insurance', 'social-security'] : serviceIds,
    })),
    mqtt: { tcp: { host: '127.0.0.1', port: 0 }, ...(options.ws === false ? {} : { ws: { host: '127.0.0.1', port: 0, path: '/mqtt' } }) },
    users: Object.values(TEST_USERS).map((u) => ({
      username: u.username,
      role: u.role,
      passwordHash: userHashes()[u.username],
      ...('deviceId' in u ? { deviceId: u.deviceId } : {}),
    })),
    stateDir: './state',
    devices: options.devices ?? [],
    log: { level: 'info' },
    ...options.extra,
  };
}

/** Writes the config into a fresh temp dir; returns the file and the dir. */
export function writeTestHall(options: TestHallOptions = {}, dir = mkdtempSync(join(tmpdir(), 'hall-edge-test-'))): { file: string; dir: string } {
  const file = join(dir, 'hall.yaml');
  writeFileSync(file, stringify(testHallConfig(options)));
  return { file, dir };
}
