import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { startDashboardServer, type RunningDashboard } from '../../src/dashboard/server.js';
import { silentLogger } from '../../src/platform/logger.js';

/** A raw GET whose path is sent exactly as written (fetch would normalise `..` away). */
function rawGet(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard server', () => {
  let dashboard: RunningDashboard;

  beforeAll(async () => {
    dashboard = await startDashboardServer({
      host: '127.0.0.1',
      port: 0,
      hallId: 'test-hall',
      hallName: { zh: '测试大厅', en: 'Test hall' },
      ws: { port: 18083, path: '/mqtt' },
      log: silentLogger(),
    });
  });
  afterAll(async () => {
    await dashboard?.close();
  });

  it('binds port 0 to a real port', () => {
    expect(dashboard.port).toBeGreaterThan(0);
  });

  it('serves the page, its scripts and the mqtt.js bundle with the right content types', async () => {
    const cases: Array<[string, string, string]> = [
      ['/', 'text/html', '<form id="login-form"'],
      ['/index.html', 'text/html', '/vendor/mqtt.min.js'],
      ['/app.js', 'text/javascript', 'HallSession'],
      ['/style.css', 'text/css', '.window-card'],
      ['/vendor/mqtt.min.js', 'text/javascript', 'mqtt'],
    ];
    for (const [path, type, marker] of cases) {
      const res = await rawGet(dashboard.port, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toContain(type);
      expect(res.body, path).toContain(marker);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('sends a CSP without inline script or eval that allows WebSockets to the broker port only', async () => {
    const res = await rawGet(dashboard.port, '/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toMatch(/connect-src 'self' ws:\/\/\*:18083 wss:\/\/\*:18083/);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves config.json with the public facts and nothing secret', async () => {
    const res = await rawGet(dashboard.port, '/config.json');
    expect(res.headers['content-type']).toContain('application/json');
    const config = JSON.parse(res.body) as Record<string, unknown>;
    expect(config).toEqual({ hallId: 'test-hall', hallName: { zh: '测试大厅', en: 'Test hall' }, baseTopic: 'hall/test-hall', ws: { port: 18083, path: '/mqtt' } });
    expect(res.body).not.toMatch(/password|hash|users|scrypt/i);
  });

  it('answers 404 for unknown files and refuses every traversal', async () => {
    expect((await rawGet(dashboard.port, '/nope.js')).status).toBe(404);
    expect((await rawGet(dashboard.port, '/vendor/other.js')).status).toBe(404);
    for (const path of ['/../package.json', '/../../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/..\\..\\package.json', '/%00index.html', '/%E0%A4%A']) {
      const res = await rawGet(dashboard.port, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('"name"');
    }
    // A folder and a file type the server does not serve are not listed or leaked either.
    expect((await rawGet(dashboard.port, '/dashboard/')).status).toBe(404);
  });

  it('refuses methods other than GET and HEAD, and HEAD has no body', async () => {
    const post = await rawGet(dashboard.port, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await rawGet(dashboard.port, '/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
  });

  it('reports a port already in use clearly', async () => {
    await expect(
      startDashboardServer({ host: '127.0.0.1', port: dashboard.port, hallId: 'x', hallName: { zh: 'x', en: 'x' }, ws: undefined, log: silentLogger() }),
    ).rejects.toThrow(/address already in use/);
  });
});
