#!/usr/bin/env node
// Screenshots of the dashboard and the visitor pages (hall TV, ticket on a phone) on the running
// demo hall, for the README:
//   npm run build && node scripts/demo-screenshots.mjs [--only dashboard|visitors]
// Needs Debian's chromium and a CJK font (fonts-wqy-microhei; scripts/setup.sh installs both).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('..', import.meta.url).pathname;
const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const [tcp, ws, dash] = [await freePort(), await freePort(), await freePort()];
const state = mkdtempSync(join(tmpdir(), 'hall-shots-'));
const demo = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'demo', '--state', state, '--tcp-port', tcp, '--ws-port', ws, '--dashboard-port', dash, '--speed', '20'], {
  env: { ...process.env, HALL_EDGE_LOG_JSON: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
demo.stdout.on('data', (d) => (out += d));
try {
  while (!out.includes('Ctrl-C stops the hall')) await new Promise((r) => setTimeout(r, 200));
  // Let the scripted staff and visitors run for a while so the hall has a morning behind it.
  await new Promise((r) => setTimeout(r, 45_000));
  const operator = JSON.parse(readFileSync(join(root, 'config/demo-credentials.json'), 'utf8')).find((c) => c.role === 'operator');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  if (only !== 'visitors') {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    await page.goto(`http://127.0.0.1:${dash}/`);
    await page.fill('#login-user', operator.username);
    await page.fill('#login-pass', operator.password);
    await page.click('#login-submit');
    await page.waitForSelector('.window-card[data-window-id="w32"]');
    await new Promise((r) => setTimeout(r, 3000));
    await page.screenshot({ path: join(root, 'docs/dashboard.png') });
    await page.click('.tab[data-tab="figures"]');
    await new Promise((r) => setTimeout(r, 1500));
    await page.screenshot({ path: join(root, 'docs/dashboard-figures.png') });
    await page.click('.tab[data-tab="devices"]');
    await new Promise((r) => setTimeout(r, 1000));
    await page.screenshot({ path: join(root, 'docs/dashboard-devices.png') });
    console.log('wrote docs/dashboard.png, docs/dashboard-figures.png, docs/dashboard-devices.png');
  }
  if (only !== 'dashboard') await visitorShots(browser);
  await browser.close();
} finally {
  demo.kill('SIGTERM');
  await new Promise((r) => demo.once('exit', r));
  rmSync(state, { recursive: true, force: true });
}

/** The hall TV at both sizes and one ticket on a phone (the newest printed one's QR link). */
async function visitorShots(browser) {
  const tv = JSON.parse(readFileSync(join(root, 'config/demo-credentials.json'), 'utf8')).find((c) => c.role === 'display');
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
  await page.goto(`http://127.0.0.1:${dash}/display#user=${tv.username}&password=${tv.password}`);
  await page.waitForSelector('#previous li');
  await new Promise((r) => setTimeout(r, 2000));
  await page.screenshot({ path: join(root, 'docs/display.png') });
  await page.setViewportSize({ width: 1080, height: 1920 });
  await new Promise((r) => setTimeout(r, 1000));
  await page.screenshot({ path: join(root, 'docs/display-portrait.png') });
  await page.close();
  const tickets = readFileSync(join(state, 'tickets-kiosk-1.txt'), 'utf8');
  const links = [...tickets.matchAll(/\[QR (http[^\]]+)\]/g)].map((m) => m[1]);
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, locale: 'zh-CN' });
  await phone.goto(links[links.length - 1]);
  await phone.waitForSelector('body[data-state="waiting"]');
  await phone.screenshot({ path: join(root, 'docs/ticket-phone.png') });
  await phone.close();
  console.log('wrote docs/display.png, docs/display-portrait.png, docs/ticket-phone.png');
}
