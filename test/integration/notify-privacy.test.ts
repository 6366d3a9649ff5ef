import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import type { MqttClient } from 'mqtt';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/hall/daemon.js';
import { createLogger } from '../../src/platform/logger.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { GatewaySimulator } from '../../src/notify/gateway-simulator.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { connect, Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { TEST_USERS } from '../support/hall-config.js';
import { GATEWAYS, notifyHallConfig } from '../support/notify-hall.js';

/** Distinctive numbers: none of their digit runs occurs anywhere else in a hall's day. */
const BY_OPERATOR = '+8613912345678';
const BY_KIOSK = '13987654321';
const BY_APP = 'account:wx-Zq7Yx9Privacy';
const REFUSED = '+86139111122223333';
const NEEDLES = ['13912345678', '13987654321', 'wx-Zq7Yx9Privacy', '139111122223333'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every needle found in the bytes of every file under `dir` (SQLite file, WAL, backups, key ...). */
function foundInFiles(dir: string): string[] {
  return filesUnder(dir).flatMap((file) => {
    const bytes = readFileSync(file);
    return NEEDLES.filter((needle) => bytes.includes(Buffer.from(needle, 'utf8'))).map((needle) => `${needle} in ${file}`);
  });
}

describe('contacts are personal data', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('a day with contacts leaves them in no log line, no event or retained message, no file of the hall in clear; day end erases them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hall-notify-privacy-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const stateDir = join(dir, 'state');
    const printer = new PrinterSimulator({ ticketFile: join(dir, 'printed.txt') });
    await printer.listenTcp(0);
    cleanup.push(() => printer.close());

    const raw = notifyHallConfig({}, 2);
    Object.assign(raw.hall as object, { timeZone: 'Asia/Shanghai', dayStartsAt: '04:00', openingHours: { open: '08:30', close: '17:30' } });
    raw.devices = [{ id: 'kiosk-1', kind: 'dispenser', options: { printer: { type: 'epson', interface: printer.url }, buttons: [] } }];
    const config = parseConfig(stringify({ ...raw, stateDir }), join(dir, 'hall.yaml'), { deviceKinds: deviceKindSchemas() });
    // Everything the daemon and the gateway log, at the most talkative level.
    let logged = '';
    const log = createLogger({ level: 'trace', destination: new Writable({ write: (chunk, _enc, done) => ((logged += String(chunk)), done()) }) });
    let now = Date.UTC(2026, 10, 23, 1, 0); // Monday 09:00 in Shanghai
    const daemon = await startDaemon({ config, log, now: () => now, tickMs: 60_000 });
    let stopped = false;
    const clients: MqttClient[] = [];
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await gateway.stop();
      for (const client of clients) await client.endAsync(true);
      await daemon.stop();
    };
    cleanup.push(stop);
    const url = `mqtt://127.0.0.1:${daemon.ports.tcp}`;
    const base = `hall/${config.hall.id}`;
    const gateway = await GatewaySimulator.start({ url, hallId: config.hall.id, gatewayId: 'sms-1', ...GATEWAYS['sms-1'], log });
    const join_ = async (user: { username: string; password: string }): Promise<MqttClient> => {
      const client = await connect(url, user.username, user.password);
      clients.push(client);
      return client;
    };
    // An admin on `#` and an observer on the hall: every event and retained document of the day.
    const messages: string[] = [];
    for (const [user, filter] of [[TEST_USERS.admin, '#'], [TEST_USERS.observer, `${base}/#`]] as const) {
      const watcher = await join_(user);
      watcher.on('message', (topic, payload) => messages.push(`${topic} ${payload.toString('utf8')}`));
      await watcher.subscribeAsync(filter, { qos: 1 });
    }
    const operator = new Requester(await join_(TEST_USERS.operator), base);
    await operator.ready();
    const kiosk = await join_(TEST_USERS.device);
    const kioskAnswers: string[] = [];
    kiosk.on('message', (_topic, payload) => kioskAnswers.push(payload.toString()));
    await kiosk.subscribeAsync(`${base}/device/kiosk-1/issue/response`, { qos: 1 });
    await eventually(() => (daemon.notices!.health() as { gatewaysOnline: string[] }).gatewaysOnline.length === 1, 'the gateway online');

    // The day: tickets with contacts from an operator, a kiosk and an app; one refused contact.
    expect((await operator.request('login', { windowId: 'w01', staffId: 'zhang' })).status).toBe('ok');
    for (let i = 0; i < 3; i++) await operator.request('issue', { serviceId: 'social-security' });
    expect(await operator.request('issue', { serviceId: 'social-security', channel: 'mobile', contact: BY_OPERATOR })).toMatchObject({ status: 'ok' });
    kiosk.publish(`${base}/device/kiosk-1/issue`, JSON.stringify({ transaction: 'k1', serviceId: 'social-security', contact: BY_KIOSK }), { qos: 1 });
    await eventually(() => kioskAnswers.some((a) => a.includes('"k1"') && a.includes('"ok"')), 'the kiosk ticket printed');
    expect(await operator.request('issue', { serviceId: 'social-security', channel: 'mobile', contact: BY_APP })).toMatchObject({ status: 'ok' });
    expect(await operator.request('issue', { serviceId: 'social-security', contact: REFUSED })).toMatchObject({ status: 'error', code: 'bad-request' });
    for (let i = 0; i < 6; i++) {
      await operator.request('call-next', { windowId: 'w01' });
      await operator.request('finish', { windowId: 'w01' });
    }
    await operator.request('recall', { windowId: 'w01' }).catch(() => undefined);
    await eventually(() => gateway.deliveries.filter((d) => d.kind === 'called').length === 3, 'the three called notices delivered');
    expect(gateway.received.map((m) => m.contact).sort()).toEqual(expect.arrayContaining([BY_OPERATOR, BY_KIOSK, BY_APP]));
    expect(gateway.deliveries.every((d) => d.to.includes('*'))).toBe(true);
    // A ticket still waiting with a contact at closing time.
    await operator.request('issue', { serviceId: 'social-security', channel: 'mobile', contact: BY_OPERATOR });
    expect((daemon.notices!.health() as { storedContacts: number }).storedContacts).toBe(1);

    // While the daemon runs: the journal file and its WAL hold no contact in clear.
    expect(foundInFiles(stateDir)).toEqual([]);

    // Closing time: contacts erased, key destroyed (the closing backup copies ciphertext at most).
    now = Date.UTC(2026, 10, 23, 9, 31);
    daemon.hall.tick();
    await eventually(() => (daemon.notices!.health() as { storedContacts: number; contacts: number }).storedContacts === 0, 'contacts erased at closing time');
    expect(logged).toContain('day end: contacts erased and their key destroyed');
    await stop();

    expect(logged).toContain('notice delivered');
    expect(logged).toContain('simulated gateway sent');
    expect(NEEDLES.filter((needle) => logged.includes(needle))).toEqual([]);
    expect(messages.some((m) => m.includes('"ticket.called"'))).toBe(true);
    expect(NEEDLES.filter((needle) => messages.some((m) => m.includes(needle)))).toEqual([]);
    expect(filesUnder(stateDir).some((file) => file.endsWith('journal.db'))).toBe(true);
    expect(foundInFiles(stateDir)).toEqual([]);
    expect(foundInFiles(dir)).toEqual([]);
  }, 90_000);
});
