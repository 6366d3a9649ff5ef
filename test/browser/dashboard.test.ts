import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/platform/logger.js';
import { testHallConfig, TEST_USERS } from '../support/hall-config.js';
import { connect, Requester } from '../support/daemon-process.js';

const CHROMIUM = '/usr/bin/chromium';
const POLL = { timeout: 5000, interval: 50 };

/** Text of the first match, without waiting: expect.poll does the waiting. */
const textOf = async (locator: Locator): Promise<string | null> => (await locator.allTextContents())[0] ?? null;
const attributeOf = (locator: Locator, name: string): Promise<string | null> =>
  locator.evaluateAll((elements, attr) => elements[0]?.getAttribute(attr) ?? null, name);

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (scripts/setup.sh installs it)`);

describe.skipIf(!haveChromium)('operator dashboard in a real browser', () => {
  let dir: string;
  let daemon: RunningDaemon | undefined;
  let client: MqttClient | undefined;
  let requester: Requester;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-dashboard-'));
    const raw = testHallConfig({ windows: 6, extra: { dashboard: { host: '127.0.0.1', port: 0 }, stateDir: join(dir, 'state'), log: { level: 'silent' } } });
    const config = parseConfig(stringify(raw));
    daemon = await startDaemon({ config, log: silentLogger() });
    client = await connect(`mqtt://127.0.0.1:${daemon.ports.tcp}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
    requester = new Requester(client, 'hall/test-hall');
    await requester.ready();
    for (const [windowId, staffId] of [['w01', 'zhang'], ['w02', 'li'], ['w03', 'wang']]) {
      expect((await requester.request('login', { windowId, staffId })).status).toBe('ok');
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(`csp: ${msg.text()}`);
    });
    await page.goto(`http://127.0.0.1:${daemon.ports.dashboard}/`);
  });

  afterAll(async () => {
    await browser?.close();
    client?.end(true);
    await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows nothing of the hall before log-in and a clear message for a wrong password', async () => {
    expect(daemon!.ports.dashboard).toBeGreaterThan(0);
    await expect.poll(() => textOf(page.locator('#hall-name')), POLL).toBe('测试大厅');
    expect(await page.locator('#app-view').isHidden()).toBe(true);
    await page.fill('#login-user', TEST_USERS.operator.username);
    await page.fill('#login-pass', 'wrong-password');
    await page.click('#login-submit');
    await expect.poll(() => textOf(page.locator('#login-error')), POLL).toBe('用户名或密码错误');
    expect(await page.locator('#app-view').isHidden()).toBe(true);
  });

  it('logs in and shows the live hall', async () => {
    await page.fill('#login-pass', TEST_USERS.operator.password);
    await page.click('#login-submit');
    await expect.poll(() => page.locator('#app-view').isVisible(), POLL).toBe(true);
    await expect.poll(() => attributeOf(page.locator('#conn-state'), 'data-state'), POLL).toBe('connected');
    await expect.poll(() => page.locator('.window-card').count(), POLL).toBe(6);
    await expect.poll(() => attributeOf(page.locator('.window-card[data-window-id="w01"]'), 'data-status'), POLL).toBe('open');
    await expect.poll(() => textOf(page.locator('.window-card[data-window-id="w01"] .win-staff')), POLL).toContain('zhang');
    await expect.poll(() => page.locator('#queues tbody tr').count(), POLL).toBe(3);
  });

  it('shows a ticket issued by another MQTT client, calls it from the page and updates the window card', async () => {
    const issued = await requester.request('issue', { serviceId: 'social-security', channel: 'kiosk' });
    const number = (issued.data as { ticket: { number: string } }).ticket.number;
    await expect.poll(() => textOf(page.locator('#queues tr[data-service-id="social-security"] .next')), POLL).toContain(number);
    await expect.poll(() => textOf(page.locator('#queues tr[data-service-id="social-security"] .waiting-count')), POLL).toBe('1');
    await expect.poll(() => textOf(page.locator('#events li[data-type="ticket.issued"]').first()), POLL).toContain(number);

    await page.fill('form[data-request="call"] input[name="number"]', number.toLowerCase());
    await page.selectOption('form[data-request="call"] select[name="windowId"]', 'w02');
    await page.click('form[data-request="call"] button[type="submit"]');
    await expect.poll(() => attributeOf(page.locator('#result'), 'data-status'), POLL).toBe('ok');
    const card = page.locator('.window-card[data-window-id="w02"]');
    await expect.poll(() => textOf(card.locator('.ticket-number')), POLL).toBe(number);
    await expect.poll(() => textOf(card.locator('.timer')), POLL).toMatch(/^\d+:\d\d$/);
    await expect.poll(() => textOf(page.locator('#queues tr[data-service-id="social-security"] .waiting-count')), POLL).toBe('0');

    // The hall saw the page's request: the ticket is called at w02 for every client.
    const ticket = await requester.request('ticket', { number });
    expect((ticket.data as { ticket: { state: string; windowId: string } }).ticket).toMatchObject({ state: 'called', windowId: 'w02' });

    await card.locator('button[data-action="finish"]').click();
    await expect.poll(() => card.locator('.ticket-idle').isVisible(), POLL).toBe(true);
  });

  it('shows the readable error of a refused action', async () => {
    await page.fill('form[data-request="call"] input[name="number"]', 'A999');
    await page.click('form[data-request="call"] button[type="submit"]');
    await expect.poll(() => attributeOf(page.locator('#result'), 'data-status'), POLL).toBe('error');
    await expect.poll(() => textOf(page.locator('#result')), POLL).toContain('A999');
    await page.locator('.window-card[data-window-id="w03"] button[data-action="pause"]').click();
    await expect.poll(() => attributeOf(page.locator('.window-card[data-window-id="w03"]'), 'data-status'), POLL).toBe('paused');
    await page.locator('.window-card[data-window-id="w03"] button[data-action="resume"]').click();
    await expect.poll(() => attributeOf(page.locator('.window-card[data-window-id="w03"]'), 'data-status'), POLL).toBe('open');
  });

  it("shows today's figures and exports the day's report as CSV", async () => {
    // A little traffic so the figures, the chart and the screenshot have something to show.
    for (const serviceId of ['social-security', 'medical-insurance', 'retirement', 'social-security', 'medical-insurance']) {
      await requester.request('issue', { serviceId, channel: 'kiosk' });
    }
    await requester.request('call-next', { windowId: 'w01' });
    await requester.request('finish', { windowId: 'w01' });
    await requester.request('rate', { windowId: 'w01', rating: 5 });
    await requester.request('call-next', { windowId: 'w01' });
    await requester.request('call-next', { windowId: 'w03' });

    await page.click('.tab[data-tab="figures"]');
    await expect.poll(() => textOf(page.locator('.kpi[data-kpi="issued"] .kpi-value')), POLL).toBe('6');
    await expect.poll(() => textOf(page.locator('.kpi[data-kpi="served"] .kpi-value')), POLL).toBe('2');
    await expect.poll(() => page.locator('#by-service tbody tr').count(), POLL).toBe(3);
    await expect.poll(() => page.locator('#chart svg rect.bar.issued').first().count(), POLL).toBeGreaterThan(0);

    const download = page.waitForEvent('download');
    await page.click('#report-form button[type="submit"]');
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8');
    expect((await download).suggestedFilename()).toMatch(/^hall-test-hall-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(csv).toContain('day,scope,id,name,issued,served');
    expect(csv).toMatch(/,hall,,,6,2,/);
    expect(csv).toContain('service,social-security,社保通办');
  });

  it('switches to English, fits 1366x768 and logs out', async () => {
    await page.click('.tab[data-tab="live"]');
    await page.click('#lang-switch');
    await expect.poll(() => textOf(page.locator('.tab[data-tab="live"]')), POLL).toBe('Live hall');
    await expect.poll(() => textOf(page.locator('.window-card[data-window-id="w04"] .badge')), POLL).toBe('Closed');
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(1366);

    // The page renders at the operator screen's size (the README's screenshots: scripts/demo-screenshots.mjs).
    const shot = join(dir, 'dashboard.png');
    await page.screenshot({ path: shot });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

    // A tablet in portrait: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 800, height: 1200 });
    await expect.poll(() => page.evaluate('document.documentElement.scrollWidth'), POLL).toBeLessThanOrEqual(800);
    await page.setViewportSize({ width: 1366, height: 768 });

    await page.click('#lang-switch');
    await expect.poll(() => textOf(page.locator('.tab[data-tab="live"]')), POLL).toBe('实时大厅');
    await expect.poll(() => textOf(page.locator('.window-card[data-window-id="w04"] .badge')), POLL).toBe('关闭');

    await page.click('#logout');
    await expect.poll(() => page.locator('#login-view').isVisible(), POLL).toBe(true);
    expect(await page.locator('#app-view').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('shows an observer the hall without the controls it may not use', async () => {
    await page.fill('#login-user', TEST_USERS.observer.username);
    await page.fill('#login-pass', TEST_USERS.observer.password);
    await page.click('#login-submit');
    await expect.poll(() => page.locator('#app-view').isVisible(), POLL).toBe(true);
    await expect.poll(() => textOf(page.locator('#whoami')), POLL).toBe(`${TEST_USERS.observer.username} · 只读`);
    await expect.poll(() => page.locator('.window-card').count(), POLL).toBe(6);
    await expect.poll(() => textOf(page.locator('.window-card[data-window-id="w01"] .win-staff')), POLL).toContain('zhang');
    expect(await page.locator('.window-card[data-window-id="w01"] .win-actions').isVisible()).toBe(false);
    expect(await page.locator('.controls-card').isVisible()).toBe(false);
    await page.click('.tab[data-tab="figures"]');
    await expect.poll(() => page.locator('#kpis').isVisible(), POLL).toBe(true);
    expect(await page.locator('#report-form').isVisible()).toBe(false);
    await page.click('.tab[data-tab="live"]');

    // An operator logging in after it gets the controls back.
    await page.click('#logout');
    await page.fill('#login-user', TEST_USERS.operator.username);
    await page.fill('#login-pass', TEST_USERS.operator.password);
    await page.click('#login-submit');
    await expect.poll(() => textOf(page.locator('#whoami')), POLL).toBe(TEST_USERS.operator.username);
    await expect.poll(() => page.locator('.window-card[data-window-id="w01"] .win-actions').isVisible(), POLL).toBe(true);
    expect(await page.locator('.controls-card').isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
