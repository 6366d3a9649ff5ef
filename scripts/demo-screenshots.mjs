#!/usr/bin/env node
// Screenshots of the dashboard on the running demo hall, for the README:
//   npm run build && node scripts/demo-screenshots.mjs
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
  await browser.close();
  console.log('wrote docs/dashboard.png, docs/dashboard-figures.png, docs/dashboard-devices.png');
} finally {
  demo.kill('SIGTERM');
  await new Promise((r) => demo.once('exit', r));
  rmSync(state, { recursive: true, force: true });
}
