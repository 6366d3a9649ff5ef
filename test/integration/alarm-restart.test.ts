import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { ModbusTcpGatePeer } from '../support/peers/modbus-tcp-gate.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface ShownAlarm {
  deviceId: string;
  code: string;
  state: string;
  restored?: boolean;
}

/** The alarms document as an operator's client sees it (retained, so a client that comes later sees it too). */
async function alarmsSeen(hall: TestDaemon): Promise<() => ShownAlarm[] | undefined> {
  let latest: ShownAlarm[] | undefined;
  hall.operator.client.on('message', (topic, payload) => {
    if (topic === `${hall.base}/alarms` && payload.length > 0) latest = (JSON.parse(payload.toString()) as { alarms: ShownAlarm[] }).alarms;
  });
  await hall.operator.client.subscribeAsync(`${hall.base}/alarms`, { qos: 1 });
  return () => latest;
}

/** Finding: "gate.refused ... a restart drops it silently". */
describe('an alarm raised before a restart', () => {
  it('gate.refused is still on `alarms` after the daemon restarts, marked restored', async () => {
    const peer = await ModbusTcpGatePeer.start();
    cleanups.push(() => peer.close());
    const dir = mkdtempSync(join(tmpdir(), 'hall-edge-alarm-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const devices = [{ id: 'gate-1', kind: 'health-gate', options: { modbus: { tcp: peer.address }, pollMs: 30, timeoutMs: 250, policy: { requireHealthCode: false }, gate: { openSeconds: 0.2 } } }];

    const first = await startTestDaemon({ dir, devices });
    let running: TestDaemon | undefined = first;
    cleanups.push(() => running?.close());
    const before = await alarmsSeen(first);
    await eventually(() => peer.requests > 2, 'the gate polled');
    peer.presence = true;
    peer.measure(38.6); // a fever: refused, the alarm sounds, the operator is told
    await eventually(() => before()?.some((a) => a.deviceId === 'gate-1' && a.code === 'gate.refused' && a.state === 'active'), 'gate.refused on `alarms`');
    await first.close();
    running = undefined;

    const second = await startTestDaemon({ dir, devices });
    running = second;
    const after = await alarmsSeen(second);
    const shown = await eventually(() => after()?.find((a) => a.deviceId === 'gate-1' && a.code === 'gate.refused'), 'gate.refused after the restart');
    expect(shown).toMatchObject({ state: 'active', restored: true });
  });
});
