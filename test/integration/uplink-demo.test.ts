import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '../../src/bus/client.js';
import { CLI, requireBuild, killAndWait } from '../support/daemon-process.js';
import { eventually } from '../support/eventually.js';
import { Mosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';

const HALL = { username: 'zhifu-rsj', password: 'demo-uplink-secret' };
const WATCHER = { username: 'city', password: 'city-secret' };
const ACL = ['pattern write hall/%u/#', 'pattern read hall/%u/uplink/replay', '', `user ${WATCHER.username}`, 'topic read hall/#', ''].join('\n');

/** README: "hall-edge demo --uplink mqtt://user:pass@host:port" and a mosquitto_sub on the central broker. */
describe('hall-edge demo --uplink', () => {
  let dir: string | undefined;
  let mosquitto: Mosquitto | undefined;
  let proc: ChildProcess | undefined;
  let watcher: MqttClient | undefined;

  afterEach(async () => {
    await watcher?.endAsync(true);
    await killAndWait(proc);
    await mosquitto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the demo hall to a central Mosquitto given by one flag, from seq 1, and says offline when stopped', async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'hall-edge-demo-uplink-'));
    mosquitto = await Mosquitto.start({ dir: join(dir, 'central'), users: [HALL, WATCHER], acl: ACL });
    watcher = await connectMqtt(mosquitto.url, { ...WATCHER, reconnectPeriod: 0 });
    const seen: Array<{ topic: string; body: string }> = [];
    watcher.on('message', (topic, payload) => seen.push({ topic, body: payload.toString() }));
    await watcher.subscribeAsync('hall/zhifu-rsj/#', { qos: 1 });

    const [tcp, ws, dash] = [await freePort(), await freePort(), await freePort()];
    const uplink = `mqtt://${HALL.username}:${HALL.password}@127.0.0.1:${mosquitto.port}`;
    proc = spawn(process.execPath, [CLI, 'demo', '--state', join(dir, 'state'), '--tcp-port', String(tcp), '--ws-port', String(ws), '--dashboard-port', String(dash), '--no-devices', '--uplink', uplink], {
      env: { ...process.env, HALL_EDGE_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));

    await eventually(() => out.includes('Ctrl-C stops the hall'), 'the demo running', 40_000);
    expect(out).toContain(`mosquitto_sub -h 127.0.0.1 -p ${mosquitto.port} -t 'hall/zhifu-rsj/uplink/#' -v`);
    expect(out).not.toContain(HALL.password);
    const first = await eventually(() => seen.find((m) => m.topic === 'hall/zhifu-rsj/uplink/events'), 'the first uplink message', 20_000);
    expect(JSON.parse(first.body)).toMatchObject({ hallId: 'zhifu-rsj', first: 1, events: [{ seq: 1, type: 'day.started' }] });
    await eventually(() => seen.find((m) => m.topic === 'hall/zhifu-rsj/uplink/state' && m.body.includes('online')), 'uplink/state online');
    await eventually(() => seen.find((m) => m.topic === 'hall/zhifu-rsj/bridge/info'), 'bridge/info mirrored');

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    await eventually(() => seen.find((m) => m.topic === 'hall/zhifu-rsj/uplink/state' && m.body.includes('offline')), 'uplink/state offline after stop');
  }, 90_000);
});
