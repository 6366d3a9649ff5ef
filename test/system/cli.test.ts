import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/eventually.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { verifyPassword } from '../../src/bus/password.js';
import { CLI, requireBuild, startDaemonProcess } from '../support/daemon-process.js';
import { writeTestHall, TEST_USERS } from '../support/hall-config.js';

const run = promisify(execFile);

async function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, HALL_EDGE_LOG_JSON: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs a command until its output matches (then stops it) or `timeoutMs` passes; resolves with the output. */
function outputUntil(command: string, args: string[], pattern: RegExp, timeoutMs: number, onOutput?: (out: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      child.kill();
      if (err) reject(err);
      else resolve(out);
    };
    const timer = setTimeout(() => finish(new Error(`${command}: no output matching ${pattern} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      onOutput?.(out);
      if (pattern.test(out)) finish();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
}

describe('hall-edge command line', () => {
  const cleanup: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('check-config accepts the demo and example halls and explains a broken one', async () => {
    expect((await cli(['check-config', 'config/demo-hall.yaml'])).stdout).toMatch(/OK — hall "zhifu-rsj", 6 services, 32 windows/);
    expect((await cli(['check-config', 'config/example-hall.yaml'])).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'hall-cfg-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const broken = readFileSync('config/example-hall.yaml', 'utf8').replace(/skills: \[([a-z-]+)/, 'skills: [Z');
    writeFileSync(join(dir, 'hall.yaml'), broken);
    const result = await cli(['check-config', join(dir, 'hall.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/windows\[\d+\]\.skills\[0\]: unknown service "Z"/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('passwd prints a scrypt hash of the password read from stdin', async () => {
    const result = await cli(['passwd'], 'a-long-secret\n');
    expect(result.code).toBe(0);
    const hash = result.stdout.trim();
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(verifyPassword('a-long-secret', hash)).toBe(true);
    expect((await cli(['passwd'], 'short\n')).code).toBe(1);
  });

  it('stats reads a stopped hall\'s journal (JSON and CSV), and asks the running daemon over MQTT', async () => {
    // A fixed port, as a real hall has: the stats command finds the daemon through the config.
    const hall = writeTestHall({ windows: 2, ws: false, extra: { mqtt: { tcp: { host: '127.0.0.1', port: await freePort() } } } });
    cleanup.push(() => rmSync(hall.dir, { recursive: true, force: true }));
    const daemon = await startDaemonProcess(hall.file, hall.dir);
    cleanup.push(async () => {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    });
    const op = TEST_USERS.operator;
    const pub = (command: string, payload: object) =>
      run('mosquitto_pub', ['-p', String(daemon.ports.tcpPort), '-u', op.username, '-P', op.password, '-q', '1', '-t', `hall/test-hall/bridge/request/${command}`, '-m', JSON.stringify(payload)]);
    await pub('issue', { serviceId: 'social-security' });
    await pub('issue', { serviceId: 'retirement' });
    // The daemon logs each event once it is journaled: wait for both tickets there.
    await eventually(() => daemon.lines.filter((l) => l.includes('"ticket.issued"')).length >= 2, 'both tickets journaled');

    const locked = await cli(['stats', '--config', hall.file]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/daemon is running/);
    const live = await cli(['stats', '--config', hall.file, '--user', op.username, '--password', op.password]);
    expect(live.stderr + live.stdout.slice(0, 300)).not.toMatch(/error|fatal/i);
    expect(live.code).toBe(0);
    expect(JSON.parse(live.stdout).total.issued).toBe(2);

    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.lines.some((l) => l.includes('hall-edge stopped'))).toBe(true);
    const json = await cli(['stats', '--config', hall.file]);
    expect(JSON.parse(json.stdout).byService['retirement'].issued).toBe(1);
    const csv = await cli(['stats', '--config', hall.file, '--csv']);
    expect(csv.stdout.split('\r\n')[0]).toContain('day,scope,id,name,issued,served');
    expect(csv.stdout).toMatch(/service,retirement,退休,1,/);
    expect((await cli(['stats', '--config', hall.file, '--day', '2001-01-01'])).stderr).toMatch(/no journal entries for 2001-01-01/);
  }, 120_000);

  it('demo runs the demo hall, answers mosquitto clients with the demo credentials and refuses them without', async () => {
    requireBuild();
    const state = mkdtempSync(join(tmpdir(), 'hall-demo-'));
    const [tcp, ws, dash] = [await freePort(), await freePort(), await freePort()];
    const proc: ChildProcess = spawn(process.execPath, [CLI, 'demo', '--state', state, '--tcp-port', String(tcp), '--ws-port', String(ws), '--dashboard-port', String(dash), '--speed', '5'], {
      env: { ...process.env, HALL_EDGE_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    cleanup.push(async () => {
      proc.kill('SIGKILL');
      await exited;
      rmSync(state, { recursive: true, force: true });
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 120_000; // the demo renders its voice clips with espeak first
    while (!out.includes('Ctrl-C stops the hall')) {
      if (Date.now() > deadline) throw new Error(`demo did not start:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const credentials = JSON.parse(readFileSync('config/demo-credentials.json', 'utf8')) as Array<{ username: string; password: string; role: string }>;
    const observer = credentials.find((c) => c.role === 'observer')!;
    const operator = credentials.find((c) => c.role === 'operator')!;
    expect(out).toContain(`-u ${observer.username} -P '${observer.password}'`);

    const sub = await run('mosquitto_sub', ['-p', String(tcp), '-u', observer.username, '-P', observer.password, '-t', 'hall/zhifu-rsj/bridge/state', '-C', '1', '-W', '5']);
    expect(JSON.parse(sub.stdout)).toEqual({ state: 'online' });
    // Answers are private to the connection that asked (docs/mqtt-api.md), so a separate
    // mosquitto_sub does not hear mosquitto_pub's answer; the ticket shows on the public event
    // stream. Publish once the watcher has seen the hall's own traffic, so it is surely subscribed.
    let published = false;
    const issued = outputUntil('mosquitto_sub', ['-p', String(tcp), '-u', observer.username, '-P', observer.password, '-t', 'hall/zhifu-rsj/event'], /^(?=.*"ticket\.issued")(?=.*"channel":"operator")(?=.*"serviceId":"retirement").*$/m, 60_000, (out) => {
      if (published || !out.includes('"seq"')) return;
      published = true;
      void run('mosquitto_pub', ['-p', String(tcp), '-u', operator.username, '-P', operator.password, '-q', '1', '-t', 'hall/zhifu-rsj/bridge/request/issue', '-m', '{"transaction":"cli-1","serviceId":"retirement"}']).catch(() => undefined);
    });
    expect(await issued).toMatch(/"ticket\.issued"/);

    const anonymous = await run('mosquitto_sub', ['-p', String(tcp), '-t', 'hall/#', '-C', '1', '-W', '3']).catch((err: { code: number; stderr: string }) => err);
    expect((anonymous as { code: number }).code).not.toBe(0);
    expect((anonymous as { stderr: string }).stderr).toMatch(/not authori[sz]ed/i);
    const wrong = await run('mosquitto_sub', ['-p', String(tcp), '-u', operator.username, '-P', 'wrong', '-t', 'hall/#', '-C', '1', '-W', '3']).catch((err: { code: number }) => err);
    expect((wrong as { code: number }).code).not.toBe(0);

    // The simulated hall moves by itself: staff call tickets that visitors took at the kiosk.
    const called = await outputUntil('mosquitto_sub', ['-p', String(tcp), '-u', observer.username, '-P', observer.password, '-t', 'hall/zhifu-rsj/event'], /"type":"ticket.called"/, 30_000);
    expect(called).toMatch(/"type":"ticket.called"/);

    proc.kill('SIGTERM');
    const stopped = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000))]);
    if (stopped === 'hung') throw new Error(`demo did not stop within 20 s of SIGTERM; its last lines:\n${out.split('\n').slice(-25).join('\n')}`);
    expect(stopped).toBe(0);
  }, 240_000);
});
