import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { MqttClient } from 'mqtt';
import { CLI, connect, Requester, startDaemonProcess, type DaemonProcess } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { FakeGpiod } from '../support/fake-gpiod.js';
import { testHallConfig, TEST_USERS } from '../support/hall-config.js';
import { ModbusTcpGatePeer } from '../support/peers/modbus-tcp-gate.js';

/**
 * The gate's turnstile on a box GPIO line, end to end: the config passes check-config, the real
 * daemon starts with it (the registry's gate gets its GPIO from the DeviceContext), and the line
 * stays held by a running gpioset at the value the hall wants. The box has no GPIO chip, so the
 * libgpiod v1 tools are stand-ins on PATH (test/support/fake-gpiod.ts).
 */
describe('health gate with its turnstile on a GPIO line', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  it('passes check-config, starts, and holds the line at the value the hall wants (not a one-shot write)', async () => {
    const gpiod = new FakeGpiod();
    cleanups.push(() => gpiod.close());
    const peer = await ModbusTcpGatePeer.start();
    cleanups.push(() => peer.close());
    const dir = mkdtempSync(join(tmpdir(), 'gate-gpio-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = {
      ...testHallConfig({
        ws: false,
        devices: [
          {
            id: 'gate-1',
            kind: 'health-gate',
            options: { modbus: { tcp: peer.address }, pollMs: 50, policy: { requireHealthCode: false }, gate: { output: { gpio: { line: 5, chip: 'gpiochip0' } }, openSeconds: 60 } },
          },
        ],
      }),
      stateDir: join(dir, 'state'),
    };
    const file = join(dir, 'hall.yaml');
    writeFileSync(file, stringify(config));

    const check = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'check-config', file], { env: { ...process.env, PATH: gpiod.path } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/OK/);

    const daemon: DaemonProcess = await startDaemonProcess(file, dir, 60_000, [], { PATH: gpiod.path });
    cleanups.push(async () => {
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    });
    const client: MqttClient = await connect(`mqtt://127.0.0.1:${daemon.ports.tcpPort}`, TEST_USERS.operator.username, TEST_USERS.operator.password);
    cleanups.push(() => client.endAsync(true));
    const requester = new Requester(client, 'hall/test-hall');
    await requester.ready();
    const alarms: Array<Array<{ deviceId: string; code: string; state?: string }>> = [];
    client.on('message', (topic, payload) => {
      if (topic === 'hall/test-hall/alarms') alarms.push((JSON.parse(payload.toString()) as { alarms: (typeof alarms)[number] }).alarms);
    });
    await client.subscribeAsync('hall/test-hall/alarms', { qos: 1 });

    // Shut from the start, and still shut (held by a live process) while the gate runs.
    const shut = await eventually(() => gpiod.held('gpiochip0', 5), 'the turnstile line held after start');
    expect(shut.value).toBe(0);
    await eventually(() => peer.requests > 3, 'a few Modbus polls');
    expect(gpiod.held('gpiochip0', 5)).toEqual(shut);

    // An operator opens the gate: a new holder keeps it open; the old one let go first.
    const open = await requester.request('gate-hold', { mode: 'open' });
    expect(open.status).toBe('ok');
    const opened = await eventually(() => gpiod.held('gpiochip0', 5)?.value === 1 && gpiod.held('gpiochip0', 5), 'the line held open');
    expect(opened.pid).not.toBe(shut.pid);
    await eventually(() => peer.requests > 10, 'more Modbus polls with the gate open');
    expect(gpiod.held('gpiochip0', 5)).toEqual(opened);

    // Every gpioset was started to hold its line (v1 signal mode), none as a one-shot write.
    expect(gpiod.gpiosetCalls()).toEqual(['--mode=signal gpiochip0 5=0', '--mode=signal gpiochip0 5=1']);

    // The holder dies (killed by hand): the line is no longer held, and operators see why.
    process.kill(opened.pid, 'SIGKILL');
    await eventually(() => alarms.at(-1)?.some((a) => a.deviceId === 'gate-1' && a.code === 'gate.output-lost' && a.state === 'active'), 'gate.output-lost on alarms');
    expect(gpiod.held('gpiochip0', 5)).toBeUndefined();

    // An operator's hold takes the line again and clears the alarm.
    expect((await requester.request('gate-hold', { mode: 'auto' })).status).toBe('ok');
    await eventually(() => gpiod.held('gpiochip0', 5)?.value === 0, 'the line held shut again');
    await eventually(() => alarms.at(-1)?.some((a) => a.code === 'gate.output-lost' && a.state === 'cleared'), 'gate.output-lost cleared');

    // A stopping daemon leaves the gate shut and releases the line (no holder left behind).
    daemon.proc.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(gpiod.held('gpiochip0', 5)).toBeUndefined();
  });
});
