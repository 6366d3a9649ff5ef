import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDaemon, type RunningDaemon } from '../../src/hall/daemon.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/platform/logger.js';
import { testHallConfig, TEST_USERS } from '../support/hall-config.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

/** The dashboard's "推演 / What-if" tab: admins only, run over MQTT, answer and chart shown. */
describe.skipIf(!haveChromium)('what-if tab in a real browser', () => {
  let dir: string;
  let daemon: RunningDaemon | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-whatif-'));
    const raw = testHallConfig({ windows: 6, extra: { dashboard: { host: '127.0.0.1', port: 0 }, stateDir: join(dir, 'state'), log: { level: 'silent' } } });
    daemon = await startDaemon({ config: parseConfig(stringify(raw)), log: silentLogger() });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function logIn(user: keyof typeof TEST_USERS): Promise<Page> {
    const page = await (await browser!.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' })).newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(`csp: ${msg.text()}`);
    });
    await page.goto(`http://127.0.0.1:${daemon!.ports.dashboard}/`);
    await page.fill('#login-user', TEST_USERS[user].username);
    await page.fill('#login-pass', TEST_USERS[user].password);
    await page.click('#login-submit');
    await page.locator('#app-view').waitFor({ state: 'visible' });
    return page;
  }

  it('runs a what-if for an admin and shows the answer, the table and the chart', async () => {
    const page = await logIn('admin');
    await page.locator('body[data-whatif]').waitFor({ state: 'attached', timeout: 20_000 });
    expect(await page.locator('body').getAttribute('data-whatif')).toBe('on');
    await page.locator('button.tab[data-tab="whatif"]').click();
    await page.fill('#whatif-form input[name="tickets"]', '300');
    await page.selectOption('#whatif-form select[name="profile"]', 'morning-peak');
    await page.fill('#whatif-form input[name="windows"]', '3..6');
    await page.fill('#whatif-form input[name="targetP90"]', '30');
    await page.click('#whatif-form button[type="submit"]');
    await page.locator('#whatif-table tbody tr').nth(3).waitFor({ timeout: 30_000 });
    expect(await page.locator('#whatif-table tbody tr').count()).toBe(4);
    expect(await page.locator('#whatif-answer').textContent()).toMatch(/P90/);
    expect(await page.locator('#whatif-chart img').getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    // The other tabs still work and hide the what-if panel.
    await page.locator('button.tab[data-tab="figures"]').click();
    expect(await page.locator('#tab-whatif').isHidden()).toBe(true);
    expect(await page.locator('#manager-figures [data-kpi="satisfaction"]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('is not offered to an operator', async () => {
    const page = await logIn('operator');
    // The page probes the right to simulate after log-in and says when it has its answer.
    await page.locator('body[data-whatif="off"]').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await page.locator('button.tab[data-tab="whatif"]').count()).toBe(0);
  });
});
