import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { CLI, connect, requireBuild, Requester, killAndWait } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/ports.js';

const PHONE = '+8613711112222';

/** README, "Notifications": the demo hall's simulated SMS gateway logs the notices of a ticket taken with a phone number. */
describe('hall-edge demo: your turn is near', () => {
  let dir: string | undefined;
  let proc: ChildProcess | undefined;
  let client: MqttClient | undefined;

  afterEach(async () => {
    await client?.endAsync(true);
    await killAndWait(proc);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a ticket issued with a contact gets "5 ahead", "1 ahead" and "called" at the simulated gateway, the number masked', async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-demo-notify-'));
    const [tcp, ws, dash] = [await freePort(), await freePort(), await freePort()];
    proc = spawn(process.execPath, [CLI, 'demo', '--state', join(dir, 'state'), '--tcp-port', String(tcp), '--ws-port', String(ws), '--dashboard-port', String(dash), '--no-devices'], {
      env: { ...process.env, HALL_EDGE_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));
    await eventually(() => out.includes('Ctrl-C stops the hall'), 'the demo running', 40_000);
    expect(out).toContain('Notices:   a simulated SMS gateway (sms-1)');
    await eventually(() => out.includes('notification gateway online'), 'the simulated gateway online');

    const credentials = JSON.parse(readFileSync('config/demo-credentials.json', 'utf8')) as Array<{ username: string; password: string; role: string }>;
    const operator = credentials.find((c) => c.role === 'operator')!;
    client = await connect(`mqtt://127.0.0.1:${tcp}`, operator.username, operator.password);
    const requester = new Requester(client, 'hall/zhifu-rsj');
    await requester.ready();
    // The employment windows' line, served by window 21 alone in this test.
    expect(await requester.request('login', { windowId: 'w21', staffId: 's1001' })).toMatchObject({ status: 'ok' });
    for (let i = 0; i < 7; i++) expect(await requester.request('issue', { serviceId: 'employment' })).toMatchObject({ status: 'ok' });
    const issued = await requester.request('issue', { serviceId: 'employment', channel: 'mobile', contact: PHONE });
    expect(issued).toMatchObject({ status: 'ok' });
    const ticket = (issued.data!.ticket as { number: string }).number;
    for (let i = 0; i < 8; i++) expect(await requester.request('call-next', { windowId: 'w21' })).toMatchObject({ status: 'ok' });

    const sent = (): Array<{ id: string; kind: string; ahead?: number; to: string; msg: string }> =>
      out
        .split('\n')
        .filter((line) => line.includes('simulated gateway sent'))
        .map((line) => JSON.parse(line) as { id: string; kind: string; ticket: string; ahead?: number; to: string; msg: string })
        .filter((entry) => entry.ticket === ticket);
    await eventually(() => sent().length === 3, 'three notices at the simulated gateway');
    expect(sent().map((entry) => entry.id.split('/')[2])).toEqual(['near-5', 'near-1', 'called']);
    expect(sent()[0]!.msg).toContain('5 tickets are ahead of you');
    expect(sent()[1]!.msg).toContain('1 ticket is ahead of you');
    expect(sent()[2]!.msg).toContain('please go to window 21');
    expect(sent().every((entry) => entry.to === '**********2222')).toBe(true);
    expect(out).not.toContain('13711112222');

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toContain('13711112222');
  }, 90_000);
});
