import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { startTestDaemon, type TestDaemon } from '../support/in-process-daemon.js';
import { openPtyPair } from '../support/pty.js';
import { eventually } from '../support/eventually.js';
import { Bx5kLinePeer, crc16arc } from '../support/peers/bx5k-serial-line.js';

/**
 * The LED driver's fixes, checked against BX-5K controllers written from the protocol document
 * (test/support/peers/bx5k-serial-line.ts imports nothing of the codec or the simulator), on a
 * real PTY, driven by the real daemon through MQTT requests as an operator's dashboard would.
 */
const W1 = 1;
const W2 = 2;
const HALL = 9;

interface DisplayState {
  text: string | null;
  shown: boolean;
  online: boolean;
  lastError: string | null;
}
interface LedState {
  displays: Record<string, DisplayState>;
  unshowableTexts: number;
  lastUnshowable?: { display: number; chars: string; text: string };
}

describe('led-bx5k driver against independent BX-5K controllers (protocol document) on a real PTY', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  async function setup(): Promise<{ peer: Bx5kLinePeer; daemon: TestDaemon; state: () => LedState | undefined }> {
    const dir = mkdtempSync(join(tmpdir(), 'led-peer-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pty = await openPtyPair(dir);
    cleanups.push(() => pty.close());
    const peer = await Bx5kLinePeer.open(pty.b, 57600, [W1, W2, HALL]);
    cleanups.push(() => peer.close());
    const daemon = await startTestDaemon({
      windows: 2,
      ws: false,
      devices: [
        {
          id: 'led-1',
          kind: 'led-bx5k',
          options: {
            port: pty.a,
            // Long enough that a loaded 2-core box never turns a slow answer into a timeout (the offline test waits 2 × 2 of them).
            replyTimeoutMs: 1000,
            retries: 1,
            offlineAfter: 2,
            hallRefreshMs: 30,
            probeIntervalMs: 200,
            busyRetryMs: 20,
            displays: [
              { address: W1, window: 'w01', role: 'window', width: 64, height: 16 },
              { address: W2, window: 'w02', role: 'window', width: 64, height: 16 },
              { address: HALL, role: 'hall', width: 192, height: 48 },
            ],
          },
        },
      ],
    });
    cleanups.push(() => daemon.close());
    const observer: MqttClient = await daemon.connectAs('observer');
    let latest: LedState | undefined;
    observer.on('message', (topic, payload) => {
      if (topic === `${daemon.base}/device/led-1`) latest = JSON.parse(payload.toString()) as LedState;
    });
    await observer.subscribeAsync(`${daemon.base}/device/led-1`, { qos: 1 });
    await eventually(() => peer.textOf(W1) === '窗口关闭' && peer.textOf(HALL).startsWith('叫号'), 'every display written at start');
    return { peer, daemon, state: () => latest };
  }

  async function ok(daemon: TestDaemon, command: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await daemon.operator.requester.request(command, payload);
    expect(answer.status, `${command}: ${JSON.stringify(answer)}`).toBe('ok');
    return answer.data as Record<string, unknown>;
  }

  it('the peer is the document: CRC-16/ARC check value', () => {
    expect(crc16arc(Buffer.from('123456789'))).toBe(0xbb3d);
  });

  it('lists a recalled ticket once on the hall display, and shows calls on the window displays', async () => {
    const { peer, daemon } = await setup();
    await ok(daemon, 'login', { windowId: 'w01', staffId: 'zhang' });
    await ok(daemon, 'login', { windowId: 'w02', staffId: 'li' });
    for (let i = 0; i < 3; i++) await ok(daemon, 'issue', { serviceId: 'social-security' });
    await ok(daemon, 'call-next', { windowId: 'w01' });
    await ok(daemon, 'call-next', { windowId: 'w02' });
    await eventually(() => peer.textOf(W1) === 'A001 请到1号窗口' && peer.textOf(W2) === 'A002 请到2号窗口', 'both calls on the window displays');
    await ok(daemon, 'recall', { windowId: 'w01' });
    await eventually(() => peer.textOf(HALL).startsWith('叫号 A001→1号 A002→2号'), 'the recall at the head of the hall display');
    const callsRow = peer.textOf(HALL).split(' | ')[0]!;
    expect(callsRow.match(/A001/g)).toHaveLength(1);
  });

  it('reports a corrupted "ok" as a corrupted reply, not as a refusal', async () => {
    const { peer, daemon, state } = await setup();
    await ok(daemon, 'login', { windowId: 'w01', staffId: 'zhang' });
    await ok(daemon, 'issue', { serviceId: 'social-security' });
    peer.setFault(W1, 'corrupt-reply');
    await ok(daemon, 'call-next', { windowId: 'w01' });
    // The controller took the text (the screen shows it); only its answers were damaged.
    await eventually(() => peer.textOf(W1) === 'A001 请到1号窗口', 'the call on the screen');
    const error = await eventually(() => state()?.displays[W1]?.lastError ?? undefined, 'an error published for display 1');
    expect(error).toMatch(/arrived corrupted/);
    expect(error).not.toMatch(/refused/);
    expect(peer.framesFor(W1)).toBeGreaterThanOrEqual(3); // start-up, the call, its resend
  });

  it('keeps publishing the text a display should show while it is offline, marked not shown', async () => {
    const { peer, daemon, state } = await setup();
    await ok(daemon, 'login', { windowId: 'w02', staffId: 'li' });
    await ok(daemon, 'issue', { serviceId: 'social-security' });
    peer.setFault(W2, 'silent');
    await ok(daemon, 'call-next', { windowId: 'w02' });
    const offline = await eventually(() => state()?.displays[W2]?.online === false && state()!.displays[W2], 'display 2 offline');
    expect(offline).toMatchObject({ text: 'A001 请到2号窗口', shown: false });
    expect(peer.textOf(W2)).not.toBe('A001 请到2号窗口');
    // It answers again: the probe finds it and it is brought up to date.
    peer.setFault(W2, 'none');
    await eventually(() => peer.textOf(W2) === 'A001 请到2号窗口', 'display 2 caught up');
    await eventually(() => state()?.displays[W2]?.online === true && state()!.displays[W2]!.shown, 'display 2 online and shown');
  });

  it('shows characters outside GBK as "?" and says which text had them', async () => {
    const { peer, daemon, state } = await setup();
    await ok(daemon, 'broadcast', { text: '请戴口罩😷' });
    await eventually(() => peer.textOf(HALL).includes('请戴口罩'), 'the notice on the hall display');
    expect(peer.textOf(HALL)).toMatch(/请戴口罩\?+$/);
    await eventually(() => (state()?.unshowableTexts ?? 0) >= 1, 'counted in the device state');
    expect(state()!.lastUnshowable).toMatchObject({ display: HALL, chars: '😷' });
    expect(state()!.lastUnshowable!.text).toContain('请戴口罩😷');
  });
});
