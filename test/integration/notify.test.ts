import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { MqttClient } from 'mqtt';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { silentLogger } from '../../src/platform/logger.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { GatewaySimulator } from '../../src/notify/gateway-simulator.js';
import type { NoticeMessage } from '../../src/notify/gateway-protocol.js';
import { connect, Requester } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { TEST_USERS } from '../support/hall-config.js';
import { GATEWAYS, notifyHallConfig } from '../support/notify-hall.js';

const PHONE = '+8613800138000';

interface Hall {
  daemon: RunningDaemon;
  url: string;
  base: string;
  requester: Requester;
  connectAs(user: { username: string; password: string }): Promise<MqttClient>;
  gateway(id?: keyof typeof GATEWAYS, answer?: (m: NoticeMessage) => 'delivered' | 'failed' | 'silent'): Promise<GatewaySimulator>;
  /** Its clients first (a gateway says offline), then the daemon. */
  stop(): Promise<void>;
}

type NotifyHealth = Record<string, number> & { gatewaysOnline: string[] };
const notify = (hall: Hall): NotifyHealth => hall.daemon.notices!.health() as NotifyHealth;

/**
 * "Your turn is near" end to end: the real daemon (journal, aedes broker, MQTT API), an operator
 * issuing over MQTT with a contact, and the notification gateway as a real MQTT client.
 */
describe('notifications to a gateway', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function startHall(options: { notify?: Record<string, unknown>; dir?: string; now?: () => number; raw?: Record<string, unknown> } = {}): Promise<Hall & { dir: string }> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hall-notify-'));
    if (!options.dir) cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const raw = options.raw ?? notifyHallConfig(options.notify);
    const config = parseConfig(stringify({ ...raw, stateDir: join(dir, 'state') }), join(dir, 'hall.yaml'), { deviceKinds: deviceKindSchemas() });
    const daemon = await startDaemon({ config, log: silentLogger(), ...(options.now ? { now: options.now } : {}), tickMs: 60_000 });
    let stopped = false;
    const clients: Array<{ end(): Promise<unknown> }> = [];
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      for (const client of clients.splice(0).reverse()) await client.end();
      await daemon.stop();
    };
    cleanup.push(stop);
    const url = `mqtt://127.0.0.1:${daemon.ports.tcp}`;
    const base = `hall/${config.hall.id}`;
    const connectAs = async (user: { username: string; password: string }): Promise<MqttClient> => {
      const client = await connect(url, user.username, user.password);
      clients.push({ end: () => client.endAsync(true) });
      return client;
    };
    const requester = new Requester(await connectAs(TEST_USERS.operator), base);
    await requester.ready();
    const gateway = async (id: keyof typeof GATEWAYS = 'sms-1', answer?: (m: NoticeMessage) => 'delivered' | 'failed' | 'silent'): Promise<GatewaySimulator> => {
      const sim = await GatewaySimulator.start({ url, hallId: config.hall.id, gatewayId: id, ...GATEWAYS[id], ...(answer ? { answer } : {}) });
      clients.push({ end: () => sim.stop() });
      await eventually(() => (daemon.notices!.health() as NotifyHealth).gatewaysOnline.includes(id), `gateway ${id} online`);
      return sim;
    };
    return { daemon, url, base, requester, connectAs, gateway, dir, stop };
  }

  async function issue(hall: Hall, serviceId: string, contact?: string): Promise<string> {
    const answer = await hall.requester.request('issue', { serviceId, channel: 'mobile', ...(contact ? { contact } : {}) });
    expect(answer.status, answer.error).toBe('ok');
    return (answer.data!.ticket as { number: string }).number;
  }

  async function call(hall: Hall, windowId: string, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) {
      const answer = await hall.requester.request('call-next', { windowId });
      expect(answer.status, answer.error).toBe('ok');
    }
  }

  const kinds = (gateway: GatewaySimulator, ticket: string) => gateway.received.filter((m) => m.ticket === ticket).map((m) => m.id.split('/')[2]);

  it('tells a visitor at 5 ahead, at 1 ahead and when called — each once — and only the gateway reads the notices', async () => {
    const hall = await startHall();
    const gateway = await hall.gateway();
    // Everyone else subscribed to everything: an operator, an observer, an admin.
    const watchers = await Promise.all([TEST_USERS.operator, TEST_USERS.observer, TEST_USERS.admin].map((user) => hall.connectAs(user)));
    const seen: string[] = [];
    for (const [index, watcher] of watchers.entries()) {
      watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
      await watcher.subscribeAsync(index === 2 ? '#' : `${hall.base}/#`, { qos: 1 });
    }
    // Subscribing to a gateway's notices by name is refused, even to an admin.
    for (const watcher of watchers) {
      const granted = await watcher.subscribeAsync(`${hall.base}/notify/sms-1`, { qos: 1 }).catch((err: { granted?: Array<{ qos: number }> }) => err.granted ?? [{ qos: 128 }]);
      expect(granted.map((g) => g.qos)).toEqual([128]);
    }

    await hall.requester.request('login', { windowId: 'w01', staffId: 'zhang' });
    for (let i = 0; i < 8; i++) await issue(hall, 'social-security');
    const mine = await issue(hall, 'social-security', PHONE);
    expect(mine).toBe('A009');
    await call(hall, 'w01', 2); // 6 ahead: nothing yet
    expect(gateway.received).toEqual([]);
    await call(hall, 'w01'); // 5 ahead
    await eventually(() => gateway.received.length === 1, 'the 5-ahead notice');
    expect(gateway.received[0]).toMatchObject({ v: 1, id: expect.stringMatching(/\/A009\/near-5$/), kind: 'near', ticket: 'A009', ahead: 5, threshold: 5, contact: PHONE, contactKind: 'phone', attempt: 1 });
    expect(gateway.received[0]!.text.zh).toContain('前面还有 5 位');
    await call(hall, 'w01', 3); // 2 ahead
    await call(hall, 'w01'); // 1 ahead
    await eventually(() => gateway.received.length === 2, 'the 1-ahead notice');
    expect(gateway.received[1]).toMatchObject({ kind: 'near', ahead: 1, threshold: 1 });
    await call(hall, 'w01'); // 0 ahead: no threshold left
    await call(hall, 'w01'); // called
    await eventually(() => gateway.received.length === 3, 'the called notice');
    expect(gateway.received[2]).toMatchObject({ kind: 'called', ticket: 'A009', window: { id: 'w01', number: 1 } });
    expect(gateway.received[2]!.text.zh).toBe('【测试大厅】请 A009 号到 1 号窗口办理。');
    await eventually(() => notify(hall).delivered === 3, 'three deliveries counted');
    expect(notify(hall)).toMatchObject({ queued: 3, sent: 3, delivered: 3, failed: 0, contacts: 1 });

    // Recall: "called again", each time, and never a threshold again.
    await hall.requester.request('recall', { windowId: 'w01' });
    await hall.requester.request('recall', { windowId: 'w01' });
    await eventually(() => gateway.received.length === 5, 'two recall notices');
    expect(kinds(gateway, 'A009')).toEqual(['near-5', 'near-1', 'called', 'recalled-1', 'recalled-2']);
    expect(gateway.received[4]!.text.en).toContain('Called again: ticket A009, please go to window 1');
    // Finished: the contact is dropped.
    await hall.requester.request('finish', { windowId: 'w01' });
    await eventually(() => notify(hall).contacts === 0, 'the contact dropped once the ticket is done');

    // Nobody but the gateway saw a notice (the events and documents flowed to everyone).
    await eventually(() => seen.some((line) => line.includes('"ticket.finished"')), 'the watchers saw the events');
    expect(seen.filter((line) => line.includes('/notify/'))).toEqual([]);
    expect(seen.filter((line) => line.includes('13800138000'))).toEqual([]);
  }, 60_000);

  it('a transferred ticket is not told twice; a voided or no-show ticket is told nothing more', async () => {
    const hall = await startHall();
    const gateway = await hall.gateway();
    for (const [windowId, staffId] of [['w01', 'a'], ['w02', 'b']]) await hall.requester.request('login', { windowId, staffId });
    // w02 takes medical insurance first. Eight B tickets come before the A tickets, so a transfer
    // to medical insurance (keeping the ticket's place, 一次等待) puts A005 behind all of them.
    for (let i = 0; i < 8; i++) await issue(hall, 'medical-insurance');
    for (let i = 0; i < 4; i++) await issue(hall, 'social-security');
    const moved = await issue(hall, 'social-security', PHONE);
    // Issued 4 from the front: told at once, for the 5 threshold.
    await eventually(() => kinds(gateway, moved).length === 1, 'the near notice at issue');
    expect(gateway.received[0]).toMatchObject({ ticket: moved, threshold: 5, ahead: 4 });

    expect((await hall.requester.request('transfer', { number: moved, toServiceId: 'medical-insurance' })).status).toBe('ok');
    await call(hall, 'w02', 3); // 5 ahead in its new line: already told, nothing new
    await call(hall, 'w02', 4); // 1 ahead
    await eventually(() => kinds(gateway, moved).length === 2, 'the 1-ahead notice after the transfer');
    await call(hall, 'w02', 2); // called at w02
    await eventually(() => kinds(gateway, moved).length === 3, 'the called notice');
    // Called, then sent on to social security and called there: still one "called".
    expect((await hall.requester.request('transfer', { number: moved, toServiceId: 'social-security' })).status).toBe('ok');
    await hall.requester.request('call', { windowId: 'w01', number: moved });
    await eventually(() => notify(hall).delivered === 3, 'deliveries answered');
    expect(kinds(gateway, moved)).toEqual(['near-5', 'near-1', 'called']);

    // A ticket voided while waiting, and a no-show, are told nothing more.
    for (let i = 0; i < 6; i++) await issue(hall, 'retirement');
    const voided = await issue(hall, 'retirement', '+8613800138001');
    const skipped = await issue(hall, 'retirement', 'account:wx-openid-0001');
    expect(notify(hall).contacts).toBe(3);
    expect((await hall.requester.request('void', { number: voided, reason: 'left the hall' })).status).toBe('ok');
    await hall.requester.request('login', { windowId: 'w03', staffId: 'c' });
    await hall.requester.request('finish', { windowId: 'w01' });
    await call(hall, 'w03', 7); // the 6 before, then `skipped` itself
    await eventually(() => kinds(gateway, skipped).includes('called'), 'the skipped ticket called');
    await hall.requester.request('skip', { windowId: 'w03' });
    await hall.requester.request('requeue', { number: skipped });
    await hall.requester.request('call', { windowId: 'w03', number: skipped });
    await eventually(() => notify(hall).contacts === 0, 'every contact dropped');
    expect(kinds(gateway, voided)).toEqual([]);
    expect(kinds(gateway, skipped)).toEqual(['near-5', 'near-1', 'called']);
    expect(gateway.received.find((m) => m.ticket === skipped)).toMatchObject({ contact: 'account:wx-openid-0001', contactKind: 'account' });
  }, 60_000);

  it('waits for a gateway, sends again when one does not answer, fails over, and gives up', async () => {
    const hall = await startHall({ notify: { gateways: ['sms-1', 'sms-2'], answerTimeoutSeconds: 1, maxAttempts: 2 } });
    await hall.requester.request('login', { windowId: 'w01', staffId: 'zhang' });
    const first = await issue(hall, 'social-security', PHONE);
    // No gateway online: the notice waits.
    expect(notify(hall)).toMatchObject({ queued: 1, sent: 0, waiting: 1 });
    const hung = await hall.gateway('sms-1', () => 'silent');
    await eventually(() => hung.received.length === 1, 'sent to the first gateway to come online');
    const healthy = await hall.gateway('sms-2');
    // sms-1 never answers: after the timeout the notice goes to sms-2, same id, attempt 2.
    await eventually(() => healthy.received.length === 1, 'sent again to the other gateway');
    expect(healthy.received[0]).toMatchObject({ id: hung.received[0]!.id, attempt: 2, ticket: first });
    await eventually(() => notify(hall).delivered === 1, 'delivered');
    expect(notify(hall)).toMatchObject({ retried: 1, gaveUp: 0 });

    // With only the silent gateway left, a notice is tried maxAttempts times and given up.
    await healthy.stop();
    await eventually(() => !notify(hall).gatewaysOnline.includes('sms-2'), 'sms-2 offline');
    await call(hall, 'w01');
    await eventually(() => notify(hall).gaveUp === 1, 'given up after two sends', 20_000);
    expect(hung.received.filter((m) => m.kind === 'called').map((m) => m.attempt)).toEqual([1, 2]);

    // A gateway that answers "failed": counted, not sent again.
    const failing = await hall.gateway('sms-2', () => 'failed');
    await hall.requester.request('recall', { windowId: 'w01' });
    await eventually(() => notify(hall).failed === 1, 'the failure counted');
    expect(failing.received.map((m) => m.kind)).toEqual(['recalled']);
  }, 60_000);

  it('refuses a malformed contact without echoing it, and a contact where no notices are sent', async () => {
    const hall = await startHall();
    const bad = await hall.requester.request('issue', { serviceId: 'social-security', contact: '138-0013-8000' });
    expect(bad).toMatchObject({ status: 'error', code: 'bad-request' });
    expect(bad.error).toContain('contact');
    expect(bad.error).not.toContain('0013');
    const long = await hall.requester.request('issue', { serviceId: 'social-security', contact: `account:${'x'.repeat(200)}` });
    expect(long).toMatchObject({ status: 'error', code: 'bad-request' });

    const raw = notifyHallConfig();
    delete raw.notify;
    const plain = await startHall({ raw });
    const off = await plain.requester.request('issue', { serviceId: 'social-security', contact: PHONE });
    expect(off).toMatchObject({ status: 'error', code: 'notifications-off' });
    expect(plain.daemon.hall.engine.issuedCount('social-security')).toBe(0);
  }, 30_000);

  it('keeps contacts encrypted across a restart (no notice twice) and erases them and their key at closing time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hall-notify-restart-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const raw = notifyHallConfig();
    Object.assign(raw.hall as object, { timeZone: 'Asia/Shanghai', dayStartsAt: '04:00', openingHours: { open: '08:30', close: '17:30' } });
    let now = Date.UTC(2026, 10, 23, 1, 0); // Monday 09:00 in Shanghai
    let hall = await startHall({ raw, dir, now: () => now });
    let gateway = await hall.gateway();
    await hall.requester.request('login', { windowId: 'w01', staffId: 'zhang' });
    for (let i = 0; i < 6; i++) await issue(hall, 'social-security');
    const mine = await issue(hall, 'social-security', PHONE);
    await call(hall, 'w01');
    await eventually(() => kinds(gateway, mine).length === 1, 'the 5-ahead notice');
    const keyFile = join(dir, 'state', 'contacts.key');
    expect(existsSync(keyFile)).toBe(true);
    await hall.stop();

    // Back up: the contact is read back with the day's key; 5 ahead is not sent again.
    hall = await startHall({ raw, dir, now: () => now });
    gateway = await hall.gateway();
    expect(notify(hall).contacts).toBe(1);
    await call(hall, 'w01', 3); // 2 ahead
    await call(hall, 'w01'); // 1 ahead
    await eventually(() => kinds(gateway, mine).length === 1, 'the 1-ahead notice after the restart');
    expect(kinds(gateway, mine)).toEqual(['near-1']);

    // 17:31: closing time. Every contact is erased and the key destroyed.
    now = Date.UTC(2026, 10, 23, 9, 31);
    hall.daemon.hall.tick();
    await eventually(() => notify(hall).contacts === 0, 'contacts erased at closing time');
    expect(existsSync(keyFile)).toBe(false);
    expect(notify(hall)).toMatchObject({ storedContacts: 0, erasedToday: 1 });
  }, 60_000);
});
