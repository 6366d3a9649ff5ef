import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, toQueueModel } from '../../src/config/load.js';
import { formatClockTime, parseClockTime, parseTimeRange } from '../../src/config/time.js';
import { verifyPassword } from '../../src/bus/password.js';

const CONFIG_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../config');
const HASH = 'scrypt$16384$8$1$aHgav6r2vI95XFms8etg6g==$gyfGpGZl64zRr+Xpj0ddcqGVbTT2Qraz2wzgaWHHN9A=';

const MINIMAL = `
hall:
  id: mini
  name: { zh: 小厅, en: Small hall }
  timeZone: Asia/Shanghai
  openingHours: { open: "08:30", close: "17:30" }
services:
  - { id: general, prefix: A, name: { zh: 综合, en: General } }
windows:
  - { id: w1, number: 7, skills: [general] }
  - { id: w2, number: 8, skills: [{ service: general, weight: 2 }] }
users:
  - { username: op, role: operator, passwordHash: "${HASH}" }
`;

describe('the demo hall', () => {
  const config = loadConfig(join(CONFIG_DIR, 'demo-hall.yaml'));
  const model = toQueueModel(config);

  it('loads and converts to a queue model with 32 windows and 6 services', () => {
    expect(model.hallId).toBe('zhifu-rsj');
    expect(model.windows).toHaveLength(32);
    expect(model.services.map((service) => service.prefix)).toEqual(['A', 'B', 'C', 'D', 'P', 'Y']);
    expect(model.clock).toEqual({ timeZone: 'Asia/Shanghai', dayStartsAt: 240, openDays: [1, 2, 3, 4, 5], open: 510, close: 1050 });
    expect(config.devices).toEqual([]);
    expect(config.mqtt.tcp).toEqual({ host: '127.0.0.1', port: 1883 });
    expect(config.mqtt.ws).toEqual({ host: '127.0.0.1', port: 8083, path: '/mqtt' });
  });

  it('has the window kinds the hall needs', () => {
    const priority = model.windows.filter((window) => window.priorityWindow);
    expect(priority).toHaveLength(2);
    for (const window of priority) expect(window.skills.map((skill) => skill.serviceId)).toEqual(['priority', 'social-security', 'medical-insurance']);

    const lunch = { from: 12 * 60, to: 13 * 60 + 30 };
    const lunchDuty = model.windows.filter((window) => window.schedule.some((range) => range.from <= lunch.from && range.to >= lunch.to));
    expect(lunchDuty.length).toBeGreaterThanOrEqual(3);
    expect(lunchDuty.length).toBeLessThanOrEqual(4);

    expect(model.windows.filter((window) => window.skillMode === 'weighted').length).toBeGreaterThan(0);
    expect(model.windows.some((window) => window.skills.length === 1 && window.skills[0]?.serviceId === 'appointment')).toBe(true);
    expect(model.windows.slice(0, 12).every((window) => window.skills.map((skill) => skill.serviceId).join() === 'social-security,medical-insurance,retirement')).toBe(true);
    for (const service of model.services) expect(model.windows.some((window) => window.skills.some((skill) => skill.serviceId === service.id))).toBe(true);
  });

  it('resolves stateDir against the config directory', () => {
    expect(config.stateDir).toBe(join(CONFIG_DIR, '../data/demo-hall'));
  });

  it('has real scrypt hashes of the passwords in demo-credentials.json', () => {
    const credentials = JSON.parse(readFileSync(join(CONFIG_DIR, 'demo-credentials.json'), 'utf8')) as Array<{ username: string; password: string; role: string }>;
    expect(credentials.map((credential) => credential.role)).toEqual(expect.arrayContaining(['operator', 'observer', 'admin', 'device']));
    expect(credentials).toHaveLength(config.users.length);
    const header = readFileSync(join(CONFIG_DIR, 'demo-hall.yaml'), 'utf8').split('\nhall:')[0] ?? '';
    for (const credential of credentials) {
      const user = config.users.find((candidate) => candidate.username === credential.username);
      expect(user?.role).toBe(credential.role);
      expect(user?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
      expect(verifyPassword(credential.password, user?.passwordHash ?? '')).toBe(true);
      expect(verifyPassword(`${credential.password}x`, user?.passwordHash ?? '')).toBe(false);
      expect(header).toContain(credential.password);
    }
  });
});

describe('the example hall', () => {
  it('loads: 3 services, 6 windows', () => {
    const config = loadConfig(join(CONFIG_DIR, 'example-hall.yaml'));
    const model = toQueueModel(config);
    expect(model.services).toHaveLength(3);
    expect(model.windows).toHaveLength(6);
    expect(verifyPassword('change-me-operator', config.users[0]?.passwordHash ?? '')).toBe(true);
  });
});

describe('defaults', () => {
  const config = parseConfig(MINIMAL, '/etc/hall-edge/hall.yaml');
  const model = toQueueModel(config);

  it('fills the queue policy, hall calendar, service and listener defaults', () => {
    expect(model.policy).toEqual({
      recallLimit: 2,
      priorityServedBy: 'all-windows',
      priorityGuard: 3,
      requeuePlace: 'back',
      appointmentEarlyMinutes: 10,
      appointmentLateGraceMinutes: 15,
      appointmentOnTimeMinutes: 5,
      enforceWindowSchedule: true,
    });
    expect(model.clock).toMatchObject({ dayStartsAt: 240, openDays: [1, 2, 3, 4, 5] });
    expect(model.services[0]).toEqual({ id: 'general', prefix: 'A', digits: 3, name: { zh: '综合', en: 'General' }, averageHandlingMinutes: 8 });
    expect(config.mqtt).toEqual({ tcp: { host: '127.0.0.1', port: 1883 } });
    expect(config.stateDir).toBe('/var/lib/hall-edge');
    expect(config.devices).toEqual([]);
    expect(config.staff).toEqual([]);
    expect(config.dashboard).toBeUndefined();
  });

  it('names windows from their number, picks the skill mode from the weights, schedule = opening hours', () => {
    expect(model.windows).toEqual([
      {
        id: 'w1',
        number: 7,
        name: { zh: '7号窗口', en: 'Window 7' },
        skills: [{ serviceId: 'general', weight: 1 }],
        skillMode: 'preference',
        priorityWindow: false,
        schedule: [],
      },
      {
        id: 'w2',
        number: 8,
        name: { zh: '8号窗口', en: 'Window 8' },
        skills: [{ serviceId: 'general', weight: 2 }],
        skillMode: 'weighted',
        priorityWindow: false,
        schedule: [],
      },
    ]);
  });

  it('a hall open all day closes at 24:00', () => {
    const allDay = parseConfig(MINIMAL.replace('close: "17:30"', 'close: "24:00"').replace('open: "08:30"', 'open: "00:00"').replace('timeZone: Asia/Shanghai', 'timeZone: Asia/Shanghai\n  dayStartsAt: "00:00"'));
    expect(toQueueModel(allDay).clock).toMatchObject({ open: 0, close: 1440, dayStartsAt: 0 });
  });

  it('staff ids written as numbers stay ids', () => {
    const withStaff = parseConfig(`${MINIMAL}staff:\n  - { id: 1001, name: 张敏 }\n`);
    expect(withStaff.staff).toEqual([{ id: '1001', name: '张敏' }]);
  });
});

describe('clock times', () => {
  it('round-trips every minute of the day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 * 60 - 1 }), (minutes) => {
        expect(parseClockTime(formatClockTime(minutes))).toBe(minutes);
      }),
    );
  });

  it('rejects malformed times and empty or reversed ranges', () => {
    for (const bad of ['25:00', '24:00', '12:60', '1200', '12:0', '', 'noon']) expect(parseClockTime(bad)).toBeUndefined();
    expect(parseClockTime('24:00', { allowEndOfDay: true })).toBe(1440);
    expect(parseClockTime('8:30')).toBe(510);
    expect(parseTimeRange('08:30-12:00')).toEqual({ from: 510, to: 720 });
    expect(parseTimeRange('12:00-24:00')).toEqual({ from: 720, to: 1440 });
    for (const bad of ['12:00-12:00', '13:00-12:00', '24:00-24:00', '08:30', '08:30-12:00-13:00']) expect(parseTimeRange(bad)).toBeUndefined();
  });
});

describe('a hall open around the clock', () => {
  it('accepts any hour for the start of the business day (tests and the demo rely on it)', async () => {
    const { testHallConfig } = await import('../support/hall-config.js');
    const { stringify } = await import('yaml');
    for (let hour = 0; hour < 24; hour++) {
      const raw = testHallConfig();
      (raw.hall as { dayStartsAt: string }).dayStartsAt = `${String(hour).padStart(2, '0')}:00`;
      expect(() => parseConfig(stringify(raw), '/tmp/hall.yaml'), `dayStartsAt ${hour}:00`).not.toThrow();
    }
  });
});
