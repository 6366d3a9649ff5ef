import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError, loadConfig, parseConfig, validateDeviceOptions } from '../../src/config/load.js';

const HASH = 'scrypt$16384$8$1$aHgav6r2vI95XFms8etg6g==$gyfGpGZl64zRr+Xpj0ddcqGVbTT2Qraz2wzgaWHHN9A=';

/** A small valid hall; each test breaks one thing in a fresh copy. */
// any: each test reaches into arbitrary fields of this plain data to break one of them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function baseConfig(): Record<string, any> {
  return {
    hall: {
      id: 'test-hall',
      name: { zh: '测试大厅', en: 'Test hall' },
      timeZone: 'Asia/Shanghai',
      openingHours: { open: '08:30', close: '17:30' },
    },
    services: [
      { id: 'general', prefix: 'A', name: { zh: '综合', en: 'General' } },
      { id: 'medical', prefix: 'B', name: { zh: '医保', en: 'Medical' } },
    ],
    windows: [
      { id: 'w1', number: 1, skills: ['general', 'medical'] },
      { id: 'w2', number: 2, skills: ['medical'] },
    ],
    users: [{ username: 'operator', role: 'operator', passwordHash: HASH }],
  };
}

function problemsOf(config: unknown): string[] {
  return problemsOfText(stringify(config));
}

function problemsOfText(text: string): string[] {
  try {
    parseConfig(text, 'hall.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('config errors name the field and say what is wrong', () => {
  it('accepts the base config (so the failures below are caused by the one change)', () => {
    expect(parseConfig(stringify(baseConfig())).hall.id).toBe('test-hall');
  });

  it('unknown service in skills', () => {
    const config = baseConfig();
    config.windows[1].skills = ['Z'];
    config.windows[0].skills = ['general', 'medical'];
    expect(problemsOf(config)).toEqual(['windows[1].skills[0]: unknown service "Z" (known: general, medical)']);
  });

  it('duplicate window number', () => {
    const config = baseConfig();
    config.windows[1].number = 1;
    expect(problemsOf(config)).toEqual(['windows[1].number: window number 1 is already used by windows[0] (w1)']);
  });

  it('bad time "25:00"', () => {
    const config = baseConfig();
    config.hall.openingHours.open = '25:00';
    expect(problemsOf(config)).toEqual(['hall.openingHours.open: bad time "25:00": expected HH:MM from 00:00 to 23:59']);
  });

  it('bad schedule range', () => {
    const config = baseConfig();
    config.windows[0].schedule = ['12:00-08:30'];
    expect(problemsOf(config)).toEqual(['windows[0].schedule[0]: bad time range "12:00-08:30": expected "HH:MM-HH:MM" with the start before the end']);
  });

  it('overlapping schedule ranges', () => {
    const config = baseConfig();
    config.windows[0].schedule = ['08:30-12:00', '11:30-17:30'];
    expect(problemsOf(config)).toEqual(['windows[0].schedule[1]: "11:30-17:30" overlaps "08:30-12:00" (ends 12:00)']);
  });

  it('bad time zone', () => {
    const config = baseConfig();
    config.hall.timeZone = 'Asia/Beijing';
    expect(problemsOf(config)).toEqual(['hall.timeZone: unknown time zone "Asia/Beijing" (use an IANA name such as Asia/Shanghai)']);
  });

  it('open not before close', () => {
    const config = baseConfig();
    config.hall.openingHours = { open: '17:30', close: '08:30' };
    expect(problemsOf(config)).toEqual(['hall.openingHours: opens at 17:30 but closes at 08:30: open must be before close']);
    config.hall.openingHours = { open: '09:00', close: '09:00' };
    expect(problemsOf(config)).toEqual(['hall.openingHours: opens at 09:00 but closes at 09:00: open must be before close']);
  });

  it('bad password hash format', () => {
    const config = baseConfig();
    config.users[0].passwordHash = 'secret';
    expect(problemsOf(config)).toEqual([
      'users[0].passwordHash: not a password hash: expected scrypt$N$r$p$<salt base64>$<hash base64> (make one with `hall-edge passwd`)',
    ]);
    config.users[0].passwordHash = 'scrypt$1000$8$1$aHgav6r2vI95XFms8etg6g==$gyfGpGZl64zRr+Xpj0ddcqGVbTT2Qraz2wzgaWHHN9A=';
    expect(problemsOf(config)[0]).toMatch(/^users\[0\]\.passwordHash: scrypt N must be a power of two/);
  });

  it('device role without deviceId, and deviceId on another role', () => {
    const config = baseConfig();
    config.users.push({ username: 'kiosk-1', role: 'device', passwordHash: HASH });
    config.users[0].deviceId = 'kiosk-9';
    expect(problemsOf(config)).toEqual([
      'users[0].deviceId: only a user with role "device" has a deviceId (this one is "operator")',
      'users[1].deviceId: required for role "device": the device\'s own topic level under device/',
    ]);
  });

  it('unknown role lists the valid ones', () => {
    const config = baseConfig();
    config.users[0].role = 'root';
    expect(problemsOf(config)).toEqual(['users[0].role: expected one of "device", "operator", "observer", "admin", "display", got "root"']);
  });

  it('YAML syntax error gives line and column', () => {
    const text = ['hall:', '  id: test-hall', '  name: { zh: 测试, en: Test', 'services: []', ''].join('\n');
    const problems = problemsOfText(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^line [34]:\d+: /);
  });

  it('duplicate YAML key', () => {
    const text = stringify(baseConfig()) + 'services: []\n';
    const line = text.split('\n').length - 1;
    expect(problemsOfText(text)).toEqual([`line ${line}:1: Map keys must be unique`]);
  });

  it('missing required field', () => {
    const config = baseConfig();
    delete config.hall.id;
    expect(problemsOf(config)).toEqual(['hall.id: required']);
  });

  it('wrong type shows the value', () => {
    const config = baseConfig();
    config.windows[0].number = 'one';
    expect(problemsOf(config)).toEqual(['windows[0].number: expected number, got "one"']);
  });

  it('unknown top-level key is named, with the known keys or a suggestion', () => {
    const config = baseConfig();
    config.colour = 'red';
    expect(problemsOf(config)).toEqual([
      'colour: unknown key "colour" (known: hall, queue, services, windows, staff, mqtt, requests, users, stateDir, journal, dashboard, devices, uplink, notify, log)',
    ]);
    const typo = baseConfig();
    typo.hall.openinghours = typo.hall.openingHours;
    delete typo.hall.openingHours;
    expect(problemsOf(typo)).toEqual(['hall.openingHours: required', 'hall.openinghours: unknown key "openinghours" (did you mean "openingHours"?)']);
  });

  it('duplicate prefix and a service no window takes', () => {
    const config = baseConfig();
    config.services.push({ id: 'retirement', prefix: 'A', name: { zh: '退休', en: 'Retirement' } });
    expect(problemsOf(config)).toEqual([
      'services[2].prefix: prefix "A" is already used by services[0] (general)',
      'services[2]: no window takes service "retirement": its tickets would wait forever (add it to some window\'s skills)',
    ]);
  });

  it('prefix must be one capital letter; dailyCap must fit the digits', () => {
    const config = baseConfig();
    config.services[0].prefix = 'a';
    config.services[1].digits = 2;
    config.services[1].dailyCap = 120;
    expect(problemsOf(config)).toEqual([
      'services[0].prefix: prefix must be one capital letter A-Z, got "a"',
      'services[1].dailyCap: 120 tickets do not fit in 2 digits (at most 99)',
    ]);
  });

  it('weights with skillMode preference, and a malformed skill', () => {
    const config = baseConfig();
    config.windows[0].skillMode = 'preference';
    config.windows[0].skills = [{ service: 'general', weight: 2 }, 'medical'];
    config.windows[1].skills = [5];
    expect(problemsOf(config)).toEqual([
      'windows[0].skillMode: "preference" ignores skill weights: remove the weights or use skillMode "weighted"',
      'windows[1].skills[0]: expected a service id or { service: <id>, weight: <number> }',
    ]);
  });

  it('devices: duplicate id, unknown window, options not a mapping', () => {
    const config = baseConfig();
    config.devices = [
      { id: 'led-w1', kind: 'led-bx5k', window: 'w9' },
      { id: 'led-w1', kind: 'led-bx5k', options: 'fast' },
    ];
    expect(problemsOf(config)).toEqual([
      'devices[1].options: expected a mapping of the device kind\'s options, got "fast"',
      'devices[1].id: duplicate device id "led-w1" (also devices[0])',
      'devices[0].window: unknown window "w9"',
    ]);
  });

  it('listeners on the same port', () => {
    const config = baseConfig();
    config.mqtt = { tcp: { port: 1883 }, ws: { port: 1883 } };
    expect(problemsOf(config)).toEqual(['mqtt.ws.port: port 1883 is also used by mqtt.tcp']);
  });

  it('broker limits: given ones are kept, the rest left to the broker, nonsense named', () => {
    const config = baseConfig();
    config.mqtt = { limits: { maxPacketBytes: 65_536, passwordChecks: 1 } };
    expect(parseConfig(stringify(config)).mqtt.limits).toEqual({ maxPacketBytes: 65_536, passwordChecks: 1 });
    config.mqtt = { limits: { maxPacketBytes: 10, maxPackets: 3 } };
    const problems = problemsOf(config);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/mqtt\.limits.*maxPackets/);
    expect(problems.join('\n')).toMatch(/mqtt\.limits\.maxPacketBytes/);
  });

  it('no users', () => {
    const config = baseConfig();
    config.users = [];
    expect(problemsOf(config)).toEqual(['users: needs at least one user: anonymous MQTT clients are refused']);
  });

  it('reports several problems at once', () => {
    const config = baseConfig();
    config.hall.openingHours.close = '25:00';
    config.services[1].prefix = 'A';
    config.windows[0].skills = ['general', 'Z'];
    config.users[0].passwordHash = 'plain';
    config.extra = true;
    const problems = problemsOf(config);
    expect(problems).toEqual(
      expect.arrayContaining([
        'hall.openingHours.close: bad time "25:00": expected HH:MM from 00:00 to 24:00',
        'services[1].prefix: prefix "A" is already used by services[0] (general)',
        'windows[0].skills[1]: unknown service "Z" (known: general, medical)',
        expect.stringMatching(/^users\[0\]\.passwordHash: not a password hash/),
        expect.stringMatching(/^extra: unknown key "extra"/),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('ConfigError message: the file, then one problem per line', () => {
    const config = baseConfig();
    config.hall.timeZone = 'Mars/Olympus';
    config.windows[1].number = 1;
    let error: unknown;
    try {
      parseConfig(stringify(config), '/etc/hall-edge/hall.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe('/etc/hall-edge/hall.yaml');
    expect((error as ConfigError).message.split('\n')).toEqual([
      '/etc/hall-edge/hall.yaml: invalid configuration (2 problems)',
      '  hall.timeZone: unknown time zone "Mars/Olympus" (use an IANA name such as Asia/Shanghai)',
      '  windows[1].number: window number 1 is already used by windows[0] (w1)',
    ]);
  });

  it('an empty file or a list says what was expected', () => {
    expect(problemsOfText('')).toEqual(['the file is empty: expected the hall configuration (hall, services, windows, users, ...)']);
    expect(problemsOfText('- a\n- b\n')).toEqual(['(top level): expected object, got a list']);
  });

  it('an unresolved YAML alias is a problem, not a crash', () => {
    expect(problemsOfText('hall: *nowhere\n')[0]).toMatch(/^YAML: /);
  });
});

describe('device options, validated by the device kinds', () => {
  const kinds = new Map<string, z.ZodType>([
    ['led-bx5k', z.strictObject({ path: z.string(), baudRate: z.number().int().default(9600) })],
    ['voice-caller', z.strictObject({ volume: z.number().min(0).max(100).optional() })],
  ]);

  it('names the option path and the unknown kind with the known ones', () => {
    const config = baseConfig();
    config.devices = [
      { id: 'led-w1', kind: 'led-bx5k', window: 'w1', options: { path: '/dev/ttyUSB0' } },
      { id: 'led-w2', kind: 'led-bx5k', window: 'w2', options: { path: '/dev/ttyUSB0', baudRate: '9600' } },
      { id: 'voice', kind: 'voice-caller', options: { volume: 300 } },
      { id: 'thing', kind: 'foo' },
    ];
    const parsed = parseConfig(stringify(config));
    expect(validateDeviceOptions(parsed, kinds)).toEqual([
      'devices[1].options.baudRate: expected number, got "9600"',
      'devices[2].options.volume: must be at most 100, got number 300',
      'devices[3].kind: unknown device kind "foo" (known: led-bx5k, voice-caller)',
    ]);
    expect(() => parseConfig(stringify(config), 'hall.yaml', { deviceKinds: kinds })).toThrow(ConfigError);
    config.devices = config.devices.slice(0, 1);
    expect(parseConfig(stringify(config), 'hall.yaml', { deviceKinds: kinds }).devices).toHaveLength(1);
  });
});

describe('loading files', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('resolves relative paths against the config file and checks the TLS files exist', () => {
    dir = mkdtempSync(join(tmpdir(), 'hall-config-'));
    const config = baseConfig();
    config.stateDir = './state';
    config.mqtt = { tls: { port: 0, cert: './tls/cert.pem', key: 'key.pem' } };
    const file = join(dir, 'hall.yaml');
    writeFileSync(file, stringify(config));
    let problems: string[] = [];
    try {
      loadConfig(file);
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([`mqtt.tls.cert: file not found: ${join(dir, 'tls/cert.pem')}`, `mqtt.tls.key: file not found: ${join(dir, 'key.pem')}`]);

    writeFileSync(join(dir, 'key.pem'), 'key');
    config.mqtt.tls.cert = 'key.pem';
    writeFileSync(file, stringify(config));
    const loaded = loadConfig(file);
    expect(loaded.stateDir).toBe(join(dir, 'state'));
    expect(loaded.mqtt.tls).toMatchObject({ host: '0.0.0.0', port: 0, cert: join(dir, 'key.pem'), key: join(dir, 'key.pem') });
  });

  it('a missing file is a ConfigError', () => {
    expect(() => loadConfig('/nonexistent/hall.yaml')).toThrow(/^\/nonexistent\/hall\.yaml: invalid configuration \(1 problem\)\n {2}file not found$/);
  });
});
