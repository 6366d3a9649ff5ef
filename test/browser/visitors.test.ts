import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/platform/logger.js';
import { hashPassword } from '../../src/bus/password.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';
import { defaultClipDefinitions } from '../../devices/voice-caller/clip-vocabulary.js';
import { encodeWav, silence } from '../../devices/voice-caller/wav.js';
import { MANIFEST_FILE } from '../../devices/voice-caller/clip-manifest.js';
import { testHallConfig, TEST_USERS } from '../support/hall-config.js';
import { connect, Requester } from '../support/daemon-process.js';
import { freePort } from '../support/ports.js';

const CHROMIUM = '/usr/bin/chromium';
const POLL = { timeout: 15_000, interval: 50 };
const DISPLAY_USER = { username: 'tv-1', password: 'display-secret-1' };

const textOf = async (locator: Locator): Promise<string | null> => (await locator.allTextContents())[0] ?? null;
const attributeOf = (locator: Locator, name: string): Promise<string | null> =>
  locator.evaluateAll((elements, attr) => elements[0]?.getAttribute(attr) ?? null, name);

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`visitor page browser tests skipped: ${CHROMIUM} is missing (scripts/setup.sh installs it)`);

/** A complete clip set of short silences: the real clip library and renderer, without espeak-ng's minutes. */
function writeSilentClipSet(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const clips = defaultClipDefinitions().map((clip) => {
    writeFileSync(join(dir, `${clip.id}.wav`), encodeWav(silence(8000, 40)));
    return { id: clip.id, lang: clip.lang, text: clip.text, file: `${clip.id}.wav` };
  });
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ version: 1, format: { sampleRate: 8000, channels: 1, bitsPerSample: 16 }, clips }));
}

describe.skipIf(!haveChromium)('visitor pages in a real browser: the hall TV and the ticket on the phone', () => {
  let dir: string;
  let daemon: RunningDaemon | undefined;
  let client: MqttClient | undefined;
  let requester: Requester;
  let browser: Browser | undefined;
  let dashUrl: string;
  let makeConfig: () => ReturnType<typeof parseConfig>;
  const pageErrors: string[] = [];

  const startHall = async (): Promise<void> => {
    daemon = await startDaemon({ config: makeConfig(), log: silentLogger() });
    client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcp}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
    requester = new Requester(client, 'hall/test-hall');
    await requester.ready();
  };
  const stopHall = async (): Promise<void> => {
    requester?.abandon('daemon stopping');
    client?.end(true);
    await daemon?.stop();
  };
  const ok = async (command: string, fields: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const response = await requester.request(command, fields);
    expect(response.status, JSON.stringify(response)).toBe('ok');
    return response.data as Record<string, unknown>;
  };
  const issue = async (serviceId = 'social-security'): Promise<string> => ((await ok('issue', { serviceId, channel: 'kiosk' })).ticket as { number: string }).number;
  const watch = (page: Page): Page => {
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(`csp: ${msg.text()}`);
    });
    return page;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-visitors-'));
    const clipsDir = join(dir, 'clips');
    writeSilentClipSet(clipsDir);
    // Fixed ports: the restart test brings the daemon back where the TV left it.
    const [tcp, ws, dash] = [await freePort(), await freePort(), await freePort()];
    dashUrl = `http://127.0.0.1:${dash}`;
    const raw = testHallConfig({
      windows: 4,
      devices: [{ id: 'voice-1', kind: 'voice-caller', options: { engine: 'clips', clipsDir, languages: ['zh', 'en'], repeat: 1, sink: { type: 'file', dir: join(dir, 'played') } } }],
      extra: { dashboard: { host: '127.0.0.1', port: dash, publicUrl: dashUrl, ticketStreams: { perAddress: 2 } }, stateDir: join(dir, 'state'), log: { level: 'silent' } },
    });
    // A long window name, as halls write them (27号窗口 优先服务专窗): the layout must not spill.
    (raw.windows as Array<Record<string, unknown>>)[3]!.name = { zh: '4号窗口 优先服务专窗', en: 'Window 4 (priority service)' };
    raw.mqtt = { tcp: { host: '127.0.0.1', port: tcp }, ws: { host: '127.0.0.1', port: ws, path: '/mqtt' } };
    raw.users = [...(raw.users as unknown[]), { username: DISPLAY_USER.username, role: 'display', passwordHash: hashPassword(DISPLAY_USER.password) }];
    const text = stringify(raw);
    makeConfig = () => parseConfig(text, join(dir, 'hall.yaml'), { deviceKinds: deviceKindSchemas() });
    await startHall();
    for (const [windowId, staffId] of [['w01', 'zhang'], ['w02', 'li']]) await ok('login', { windowId, staffId });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // A hall TV's browser runs with this flag, so calls are heard without anyone clicking first.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stopHall();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the hall display (/display)', () => {
    let context: BrowserContext;
    let tv: Page;

    beforeAll(async () => {
      context = await browser!.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
      tv = watch(await context.newPage());
    });
    afterAll(async () => context?.close());

    it('logs in with a display account from the start URL and shows the hall', async () => {
      await tv.goto(`${dashUrl}/display#user=${DISPLAY_USER.username}&password=${DISPLAY_USER.password}`);
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-conn'), POLL).toBe('connected');
      // The password does not stay in the address bar.
      expect(tv.url()).toBe(`${dashUrl}/display`);
      await expect.poll(() => textOf(tv.locator('#hall-name')), POLL).toBe('测试大厅');
      await expect.poll(() => tv.locator('#queues tbody tr').count(), POLL).toBe(3);
      expect(pageErrors).toEqual([]);
    });

    it('shows a new call large, highlighted, and says it with the voice caller\'s clips', async () => {
      const first = await issue();
      const second = await issue();
      await expect.poll(() => textOf(tv.locator('#queues tr[data-service-id="social-security"] .waiting')), POLL).toBe('2');
      await ok('call-next', { windowId: 'w01' });
      await expect.poll(() => textOf(tv.locator('#current-number')), POLL).toBe(first);
      expect(await textOf(tv.locator('#current-window'))).toBe('1号窗口');
      expect(await attributeOf(tv.locator('#current'), 'data-fresh')).toBe('true');
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-announced'), POLL).toBe('1');
      await expect.poll(() => textOf(tv.locator('#queues tr[data-service-id="social-security"] .waiting')), POLL).toBe('1');

      await ok('call-next', { windowId: 'w02' });
      await expect.poll(() => textOf(tv.locator('#current-number')), POLL).toBe(second);
      await expect.poll(() => textOf(tv.locator('#previous li[data-number="' + first + '"]')), POLL).toContain('1号窗口');
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-announced'), POLL).toBe('2');
      // The highlight goes after a few seconds.
      await expect.poll(() => attributeOf(tv.locator('#current'), 'data-fresh'), POLL).toBe(null);
      expect(pageErrors).toEqual([]);
    });

    it('shows today\'s 办件量 and the operator\'s broadcast line', async () => {
      await ok('finish', { windowId: 'w01' });
      await expect.poll(() => textOf(tv.locator('#served')), POLL).toBe('1');
      await ok('broadcast', { text: '午间12:00-13:30 仅1号窗口办理' });
      await expect.poll(() => textOf(tv.locator('#broadcast')), POLL).toBe('午间12:00-13:30 仅1号窗口办理');
    });

    const insideViewport = async (width: number, height: number): Promise<void> => {
      expect(await tv.evaluate('[document.documentElement.scrollWidth, document.documentElement.scrollHeight]')).toEqual([width, height]);
      for (const selector of ['#current', '#current-window', '#queues', '.d-served', '#broadcast', '#previous li']) {
        const box = await tv.locator(selector).first().boundingBox();
        expect(box, selector).toBeTruthy();
        expect(box!.x + box!.width, selector).toBeLessThanOrEqual(width + 0.5);
        expect(box!.y + box!.height, selector).toBeLessThanOrEqual(height + 0.5);
      }
    };

    it('fits a portrait screen: the call on top, the lines below, nothing off screen', async () => {
      await ok('login', { windowId: 'w04', staffId: 'zhao' });
      const long = await issue('retirement');
      await ok('call', { windowId: 'w04', number: long });
      await expect.poll(() => textOf(tv.locator('#current-window')), POLL).toBe('4号窗口 优先服务专窗');
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-announced'), POLL).toBe('3');
      await insideViewport(1920, 1080);
      await tv.setViewportSize({ width: 1080, height: 1920 });
      await insideViewport(1080, 1920);
      const call = await tv.locator('#current').boundingBox();
      const queues = await tv.locator('#queues').boundingBox();
      const served = await tv.locator('.d-served').boundingBox();
      expect(call && queues && served).toBeTruthy();
      expect(queues!.y).toBeGreaterThan(call!.y + call!.height - 1);
      expect(served!.y + served!.height).toBeLessThanOrEqual(1920);
      expect(call!.width).toBeGreaterThan(900);
      await tv.setViewportSize({ width: 1920, height: 1080 });
      const wide = await tv.locator('#queues').boundingBox();
      // Landscape: the lines beside the calls.
      expect(wide!.x).toBeGreaterThan(1000);
    });

    it('reconnects by itself after the daemon restarts and shows new calls again', async () => {
      await stopHall();
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-conn'), POLL).toBe('reconnecting');
      await startHall();
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-conn'), POLL).toBe('connected');
      // The broadcast line came back from the journal; nothing was announced again.
      await expect.poll(() => textOf(tv.locator('#broadcast')), POLL).toBe('午间12:00-13:30 仅1号窗口办理');
      const third = await issue();
      await ok('call-next', { windowId: 'w01' });
      await expect.poll(() => textOf(tv.locator('#current-number')), POLL).toBe(third);
      await expect.poll(() => attributeOf(tv.locator('body'), 'data-announced'), POLL).toBe('4');
      expect(pageErrors).toEqual([]);
    });

    it('a wrong display password asks for the account on the screen', async () => {
      const other = watch(await context.newPage());
      await other.goto(`${dashUrl}/display#user=${DISPLAY_USER.username}&password=wrong`);
      await expect.poll(() => other.locator('#login').isVisible(), POLL).toBe(true);
      expect(await textOf(other.locator('#login-error'))).toContain('Wrong user name or password');
      expect(await attributeOf(other.locator('body'), 'data-conn')).toBe('disconnected');
      await other.close();
    });
  });

  describe('the ticket on the phone (/t/<day>/<number>?k=<token>)', () => {
    let context: BrowserContext;
    let phone: Page;

    beforeAll(async () => {
      context = await browser!.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
      phone = watch(await context.newPage());
    });
    afterAll(async () => context?.close());

    const linkOf = (number: string): string => daemon!.hall.view.ticketPageUrl!(daemon!.hall.engine.currentDay()!, number)!;

    it('shows the place in line and follows it live until the window is called', async () => {
      await ok('finish', { windowId: 'w01' });
      await ok('finish', { windowId: 'w02' });
      const ahead = await issue();
      const mine = await issue();
      const link = linkOf(mine);
      expect(link.startsWith(`${dashUrl}/t/`)).toBe(true);
      await phone.goto(link);
      await expect.poll(() => textOf(phone.locator('#number')), POLL).toBe(mine);
      await expect.poll(() => textOf(phone.locator('#status')), POLL).toBe('前面还有 1 人');
      expect(await textOf(phone.locator('#detail'))).toMatch(/^预计等候约 \d+ 分钟$/);
      expect(await textOf(phone.locator('#service'))).toBe('社保通办');
      // Nothing on the page names another ticket.
      expect(await phone.locator('body').innerText()).not.toContain(ahead);

      await ok('call-next', { windowId: 'w01' });
      await expect.poll(() => textOf(phone.locator('#status')), POLL).toBe('下一位就是您');
      await ok('call-next', { windowId: 'w02' });
      await expect.poll(() => textOf(phone.locator('#status')), POLL).toBe('请到 2号窗口 办理');
      expect(await attributeOf(phone.locator('body'), 'data-state')).toBe('called');

      await phone.click('#lang');
      await expect.poll(() => textOf(phone.locator('#status')), POLL).toBe('Please go to Window 2');
      await ok('finish', { windowId: 'w02' });
      await expect.poll(() => textOf(phone.locator('#status')), POLL).toBe('Done, thank you for coming');
      expect(pageErrors).toEqual([]);
    });

    it('refuses a wrong token with the same bare 404 as a page that does not exist', async () => {
      const mine = await issue();
      const link = new URL(linkOf(mine));
      const good = link.searchParams.get('k')!;
      const wrongToken = new URL(link);
      wrongToken.searchParams.set('k', `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`);
      const otherNumber = new URL(link.href.replace(`/${mine}?`, `/${mine.slice(0, -1)}${mine.endsWith('9') ? '8' : '9'}?`));
      const noToken = new URL(link);
      noToken.search = '';
      const nowhere = await fetch(`${dashUrl}/no-such-page`);
      const nowhereBody = await nowhere.text();
      for (const url of [wrongToken, otherNumber, noToken, new URL(`${wrongToken.pathname}/events${wrongToken.search}`, dashUrl)]) {
        const response = await fetch(url);
        expect(response.status, url.href).toBe(404);
        expect(await response.text()).toBe(nowhereBody);
      }
      const page = await context.newPage();
      const response = await page.goto(wrongToken.href);
      expect(response?.status()).toBe(404);
      expect(await page.locator('body').innerText()).not.toContain(mine);
      await page.close();
    });

    it('over the bound of open pages a phone still sees its ticket, updated every 30 s', async () => {
      const held = await Promise.all([issue(), issue()].map(async (n) => {
        const page = await context.newPage();
        await page.goto(linkOf(await n));
        await expect.poll(() => attributeOf(page.locator('body'), 'data-live'), POLL).toBe('live');
        return page;
      }));
      const third = await context.newPage();
      const mine = await issue();
      await third.goto(linkOf(mine));
      await expect.poll(() => textOf(third.locator('#status')), POLL).toMatch(/^\d+ ahead of you$/);
      await expect.poll(() => textOf(third.locator('#live')), POLL).toBe('Updated every 30 s');
      for (const page of [...held, third]) await page.close();
      await expect.poll(() => daemon!.visitors!.stats().open, POLL).toBe(0);
    });

    it('closes the live stream when the phone goes away', async () => {
      const mine = await issue();
      const page = await context.newPage();
      await page.goto(linkOf(mine));
      // (In English: the phone remembers the language chosen on the page before.)
      await expect.poll(() => textOf(page.locator('#status')), POLL).toMatch(/^\d+ ahead of you$/);
      const open = (): number => daemon!.visitors!.stats().open;
      await expect.poll(open, POLL).toBeGreaterThanOrEqual(1);
      const before = await open();
      await page.close();
      await expect.poll(open, POLL).toBe(before - 1);
    });
  });
});
