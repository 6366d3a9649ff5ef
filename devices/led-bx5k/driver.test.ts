import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPtyPair, type PtyPair } from '../../test/support/pty.js';
import { smallModel } from '../../test/support/model.js';
import { ledBx5kKind } from './kind.js';
import { Bx5kSimulator } from './simulator.js';
import { FixedHall, RecordingContext, eventually } from './test-hall.js';
import type { DeviceDriver, Ticket } from '../../src/device-contract/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const W1 = 1;
const W3 = 3;
const HALL = 9;

function ticket(number: string, serviceId: string, state: Ticket['state']): Ticket {
  return { number, day: '2026-11-23', serviceId, issuedServiceId: serviceId, channel: 'kiosk', priority: false, items: [], issuedAt: 0, order: 1, state, recalls: 0, transfers: 0 };
}

interface Rig {
  dir: string;
  pty: PtyPair;
  sim: Bx5kSimulator;
  hall: FixedHall;
  ctx: RecordingContext;
  driver: DeviceDriver;
}

async function rig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'hall-led-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const pty = await openPtyPair(dir);
  cleanups.push(() => pty.close());
  const sim = new Bx5kSimulator({ path: pty.b, baudRate: 57600, addresses: [W1, W3, HALL] });
  await sim.start();
  cleanups.push(() => sim.stop());

  const hall = new FixedHall(smallModel());
  hall.windows.set('w1', { id: 'w1', status: 'open', staffId: 's1', priorityStreak: 0 });
  hall.waitingBy.set('ss', [ticket('A024', 'ss', 'waiting'), ticket('A025', 'ss', 'waiting')]);
  hall.served = 41;
  const ctx = new RecordingContext(hall);
  const options = ledBx5kKind.options.parse({
    port: pty.a,
    replyTimeoutMs: 100,
    retries: 1,
    offlineAfter: 2,
    hallRefreshMs: 30,
    probeIntervalMs: 100,
    busyRetryMs: 20,
    displays: [
      { address: W1, window: 'w1', role: 'window', width: 64, height: 16 },
      { address: W3, window: 'w3', role: 'window', width: 64, height: 16 },
      { address: HALL, role: 'hall', width: 192, height: 48 },
    ],
  });
  const driver = ledBx5kKind.create('led-line-1', options, ctx);
  await driver.start();
  cleanups.push(() => driver.stop());
  await eventually(() => sim.textOf(W1) === '1号窗口 欢迎您' && sim.textOf(W3) === '窗口关闭' && sim.textOf(HALL) !== '', 'displays at start-up');
  return { dir, pty, sim, hall, ctx, driver };
}

function displays(r: Rig): Record<string, { shown: boolean }> {
  return ((r.driver as unknown as { snapshot(): { displays: Record<string, { shown: boolean }> } }).snapshot()).displays;
}

function call(r: Rig, number: string, windowId: string, windowNumber: number): void {
  r.hall.tickets.set(number, { ...ticket(number, 'ss', 'called'), windowId });
  r.hall.windows.set(windowId, { id: windowId, status: 'open', current: number, priorityStreak: 0 });
  r.hall.calls.unshift({ number, windowId, windowNumber, at: Date.now() });
  r.ctx.emitEvent({ type: 'ticket.called', number, windowId, reason: 'next' });
}

describe('led-bx5k driver against the simulator over a real PTY', () => {
  it('brings every display up to date on start and reports availability', async () => {
    const r = await rig();
    expect(r.ctx.online()).toBe(true);
    expect(r.sim.textOf(HALL)).toBe('叫号 -- | 等候 社保2人 医保0人 退休0人 | 今日办件 41');
    expect(r.sim.rawTextOf(W1)).toBe('\\FO000\\C21号窗口 欢迎您');
  });

  it('shows an operator broadcast on the hall display', async () => {
    const r = await rig();
    r.ctx.bus.emit('broadcast', { text: '系统维护，社保卡业务暂停', at: Date.now() });
    await eventually(() => r.sim.textOf(HALL).endsWith('| 通知 系统维护，社保卡业务暂停'), 'notice on the hall display');
    expect(r.sim.textOf(W1)).toBe('1号窗口 欢迎您');
  });

  it('shows a call on the called window first, then refreshes the hall display', async () => {
    const r = await rig();
    const order: number[] = [];
    r.sim.on('received', (address) => order.push(address));
    r.ctx.emitEvent({ type: 'ticket.issued', ticket: ticket('A026', 'ss', 'waiting') });
    call(r, 'A023', 'w1', 1);
    await eventually(() => r.sim.textOf(W1) === 'A023 请到1号窗口', 'call text on window 1');
    await eventually(() => r.sim.textOf(HALL).startsWith('叫号 A023→1号'), 'call on the hall display');
    expect(order[0]).toBe(W1);
    expect(r.sim.receivedBy(W3)).toBe(1); // only the start-up text: events for w1 do not touch w3

    r.hall.windows.set('w1', { id: 'w1', status: 'paused', priorityStreak: 0 });
    r.ctx.emitEvent({ type: 'window.paused', windowId: 'w1' });
    await eventually(() => r.sim.textOf(W1) === '暂停服务', 'paused text');
    r.ctx.emitEvent({ type: 'window.resumed', windowId: 'w1' });
    await eventually(() => r.sim.textOf(W1) === '1号窗口 欢迎您', 'idle text after resume');
  });

  it('gives one frame, with the new call, for a command that finishes one ticket and calls the next', async () => {
    const r = await rig();
    call(r, 'A023', 'w1', 1);
    await eventually(() => r.sim.textOf(W1) === 'A023 请到1号窗口', 'first call on window 1');
    const shown: string[] = [];
    r.sim.on('updated', (address, text) => {
      if (address === W1) shown.push(text);
    });
    // call-next at a window with a ticket: the engine publishes finished, then called, together.
    r.hall.tickets.set('A024', { ...ticket('A024', 'ss', 'called'), windowId: 'w1' });
    r.hall.windows.set('w1', { id: 'w1', status: 'open', current: 'A024', priorityStreak: 0 });
    r.ctx.emitEvent({ type: 'ticket.finished', number: 'A023', windowId: 'w1' });
    r.ctx.emitEvent({ type: 'ticket.called', number: 'A024', windowId: 'w1', reason: 'next' });
    await eventually(() => r.sim.textOf(W1) === 'A024 请到1号窗口', 'second call on window 1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(shown).toEqual(['A024 请到1号窗口']); // no flash of the idle text in between
  });

  it('in a burst, sends a call with more calls behind it without asking for an answer, then confirms it behind everything', async () => {
    const r = await rig();
    // The start-up texts went out as a burst too: wait for their confirmations first.
    await eventually(() => displays(r)[W1]!.shown && displays(r)[W3]!.shown, 'start-up texts confirmed');
    const frames: Array<{ address: number; answer: boolean }> = [];
    r.sim.on('received', (address, command, answerWanted) => {
      if (command === 'dynamicArea') frames.push({ address, answer: answerWanted });
    });
    call(r, 'A023', 'w1', 1);
    call(r, 'A030', 'w3', 3);
    await eventually(() => r.sim.textOf(W1) === 'A023 请到1号窗口' && r.sim.textOf(W3) === 'A030 请到3号窗口', 'both calls shown');
    await eventually(() => displays(r)[W1]!.shown && displays(r)[W3]!.shown, 'both confirmed');
    // w1 had w3's call behind it: no answer asked. w3 was the last call: it goes without an answer
    // too while w1's frame is still on the wire (~15 ms at 57600 baud), which it is unless the box
    // stalled that long between the two. Then w1's confirmation (answer asked), behind the calls
    // (and behind the hall display when that is queued by then: it refreshes on a timer).
    expect(frames[0]).toEqual({ address: W1, answer: false });
    expect(frames[1]?.address).toBe(W3);
    // (On a busy box w3's answer may come after the rig's 100 ms timeout and w3 be sent again.)
    expect(frames.slice(2).find((f) => f.address === W1)).toEqual({ address: W1, answer: true });
    if (!frames[1]!.answer) expect(frames.slice(2).find((f) => f.address === W3)).toEqual({ address: W3, answer: true });
  });

  it('never lets a confirmation put an older text back over a newer call', async () => {
    const r = await rig();
    const w1Texts: string[] = [];
    r.sim.on('updated', (address, text) => {
      if (address === W1) w1Texts.push(text);
    });
    // w3 does not answer: its call holds the wire for its timeouts while w1's confirmation waits.
    r.sim.setFault(W3, 'silent');
    call(r, 'A023', 'w1', 1);
    call(r, 'A030', 'w3', 3);
    await eventually(() => r.sim.textOf(W1) === 'A023 请到1号窗口', 'first call on window 1 (sent without an answer)');
    call(r, 'A024', 'w1', 1);
    await eventually(() => r.sim.textOf(W1) === 'A024 请到1号窗口', 'second call on window 1');
    await eventually(() => displays(r)[W1]!.shown, 'window 1 confirmed');
    expect(r.sim.textOf(W1)).toBe('A024 请到1号窗口');
    expect(w1Texts.slice(w1Texts.indexOf('A024 请到1号窗口'))).not.toContain('A023 请到1号窗口');
  });

  it('retries a busy controller after a short delay until it takes the text', async () => {
    const r = await rig();
    r.sim.setFault(W1, 'busy');
    let seen = 0;
    r.sim.on('received', (address) => {
      if (address === W1 && ++seen === 2) r.sim.setFault(W1, 'none');
    });
    call(r, 'A030', 'w1', 1);
    await eventually(() => r.sim.textOf(W1) === 'A030 请到1号窗口', 'text after busy');
    expect(seen).toBe(2); // one busy answer, then taken
    // The display shows the text before the driver has its reply and publishes its state.
    const errorsOf = () => (r.ctx.states.at(-1) as { displays: Record<string, { errors: number }> }).displays[W1]?.errors;
    await eventually(() => errorsOf() === 1, 'the busy answer counted in the published state');
    expect(errorsOf()).toBe(1);
  });

  it('resends after a reply with a bad CRC', async () => {
    const r = await rig();
    r.sim.setFault(W1, 'corrupt');
    let seen = 0;
    r.sim.on('received', (address) => {
      if (address === W1 && ++seen === 1) setImmediate(() => r.sim.setFault(W1, 'none'));
    });
    call(r, 'A031', 'w1', 1);
    await eventually(() => seen >= 2, 'a resend');
    await eventually(() => (r.ctx.states.at(-1) as { displays: Record<string, { text: string | null }> }).displays[W1]?.text === 'A031 请到1号窗口', 'confirmed text');
  });

  it('reports replies that keep arriving corrupted as corrupted replies, not as a refusal', async () => {
    const r = await rig();
    r.sim.setFault(W1, 'corrupt'); // the controller takes the text and answers "ok"; its answer is damaged
    call(r, 'A032', 'w1', 1);
    await eventually(() => r.ctx.logged('LED display update failed').length > 0, 'the failure logged');
    const [entry] = r.ctx.logged('LED display update failed');
    expect(String((entry!.err as Error).message)).toMatch(/arrived corrupted/);
    const state = r.ctx.states.at(-1) as { displays: Record<string, { lastError: string | null }> };
    expect(state.displays[W1]!.lastError).toMatch(/arrived corrupted/);
    expect(state.displays[W1]!.lastError).not.toMatch(/refused/);
  });

  it('keeps publishing the text a display should show while it is offline, marked not shown', async () => {
    const r = await rig();
    r.sim.setFault(W1, 'silent');
    call(r, 'A041', 'w1', 1);
    await eventually(() => r.ctx.alarms.find((a) => a.code === `display-${W1}-offline`), 'display 1 offline');
    await eventually(() => {
      const state = r.ctx.states.at(-1) as { displays: Record<string, { text: string | null; shown: boolean; online: boolean }> };
      return state.displays[W1]?.online === false && state.displays[W1];
    }, 'an offline state published');
    const state = r.ctx.states.at(-1) as { displays: Record<string, { text: string | null; shown: boolean }> };
    expect(state.displays[W1]).toMatchObject({ text: 'A041 请到1号窗口', shown: false });
  });

  it('logs which text had characters outside GBK (they show as "?") and counts it', async () => {
    const r = await rig();
    r.ctx.bus.emit('broadcast', { text: '请戴口罩😷', at: Date.now() });
    await eventually(() => r.sim.textOf(HALL).includes('请戴口罩'), 'the notice on the hall display');
    const [entry] = r.ctx.logged('LED display text has characters outside GBK; they show as "?"');
    expect(entry).toMatchObject({ display: HALL, chars: '😷' });
    expect(String(entry!.text)).toContain('请戴口罩😷');
    await eventually(() => (r.ctx.states.at(-1) as { unshowableTexts: number }).unshowableTexts >= 1, 'counted in the state');
  });

  it('counts a silent display, keeps the others flowing, reports it offline and catches it up when it answers', async () => {
    const r = await rig();
    r.sim.setFault(W3, 'silent');
    r.hall.windows.set('w3', { id: 'w3', status: 'open', priorityStreak: 0 });
    r.ctx.emitEvent({ type: 'window.opened', windowId: 'w3', staffId: 's3' });
    call(r, 'A040', 'w1', 1);
    await eventually(() => r.sim.textOf(W1) === 'A040 请到1号窗口', 'window 1 unaffected');
    await eventually(() => r.ctx.alarms.find((a) => a.code === `display-${W3}-offline`), 'offline alarm for display 3');
    const state = r.ctx.states.at(-1) as { displays: Record<string, { online: boolean; timeouts: number }> };
    expect(state.displays[W3]).toMatchObject({ online: false });
    expect(state.displays[W3]!.timeouts).toBeGreaterThanOrEqual(2);
    expect(r.sim.textOf(W3)).toBe('窗口关闭');

    r.sim.setFault(W3, 'none');
    await eventually(() => r.sim.textOf(W3) === '3号窗口 欢迎您', 'display 3 caught up after the probe');
    expect(r.ctx.clearedAlarms).toContain(`display-${W3}-offline`);
  });

  it('goes unavailable when the line is unplugged and brings every display up to date when it is back', async () => {
    const r = await rig();
    await r.pty.close();
    await eventually(() => r.ctx.online() === false, 'availability false');
    call(r, 'A050', 'w1', 1); // happens while the line is down
    const again = await openPtyPair(r.dir);
    cleanups.push(() => again.close());
    await r.sim.whenOpen(5000);
    await eventually(() => r.ctx.online() === true, 'availability true again');
    await eventually(() => r.sim.textOf(W1) === 'A050 请到1号窗口', 'missed call shown after reconnect');
    await eventually(() => r.sim.textOf(HALL).startsWith('叫号 A050→1号'), 'hall display caught up');
  });

  it('rejects bad options with readable errors', () => {
    const bad = ledBx5kKind.options.safeParse({ port: '/dev/x', displays: [{ address: 1, role: 'window', width: 60, height: 16 }] });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => i.message).join('\n');
    expect(messages).toMatch(/multiple of 8|window display needs/);
  });
});
