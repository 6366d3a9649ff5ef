import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/platform/event-bus.js';
import { silentLogger } from '../../src/platform/logger.js';
import type { CommandResult, DeviceContext, HallBusEvents, HallView, QueueCommand, HallEvent, SequencedEvent, Ticket, WindowState } from '../../src/device-contract/index.js';
import { openPtyPair, type PtyPair } from '../../test/support/pty.js';
import { smallModel } from '../../test/support/model.js';
import { encodePadFrame } from './codec.js';
import { CounterPadDriver } from './driver.js';
import { counterPadKind } from './kind.js';
import { CounterPadSimulator } from './simulator.js';
import { pickRating, startAutopilot } from './autopilot.js';
import { eventually } from '../../test/support/eventually.js';

/** A hall event without the fields the journal stamps. */
type EventInput = HallEvent extends infer E ? (E extends HallEvent ? Omit<E, 'at' | 'day'> : never) : never;

/** A hall the test steers by hand: windows, tickets and what submit() answers. */
class FakeHall {
  readonly model = smallModel();
  readonly windows = new Map<string, WindowState>();
  readonly tickets = new Map<string, Ticket>();
  readonly bus = new EventBus<HallBusEvents>(silentLogger());
  readonly commands: QueueCommand[] = [];
  readonly availability: Array<{ online: boolean; reason?: string }> = [];
  lastState: Record<string, unknown> | undefined;
  private seq = 0;
  /** Answers for submit(), in order; when empty, everything is accepted. */
  script: Array<CommandResult | ((command: QueueCommand) => CommandResult)> = [];

  view(): HallView {
    return {
      model: this.model,
      window: (id) => this.windows.get(id),
      ticket: (number) => this.tickets.get(number),
      waiting: (serviceId) => [...this.tickets.values()].filter((t) => t.serviceId === serviceId && t.state === 'waiting'),
      waitingCount: (serviceId) => [...this.tickets.values()].filter((t) => t.serviceId === serviceId && t.state === 'waiting').length,
      waitingCountForWindow: (windowId) => {
        const services = new Set(this.model.windows.find((w) => w.id === windowId)?.skills.map((s) => s.serviceId));
        return [...this.tickets.values()].filter((t) => t.state === 'waiting' && (t.targetWindowId === windowId || (!t.targetWindowId && services.has(t.serviceId)))).length;
      },
      servedToday: () => 0,
      recentCalls: () => [],
      estimatedWaitMinutes: () => 0,
      now: () => Date.now(),
    };
  }

  context(): DeviceContext {
    return {
      deviceId: 'pads-1',
      log: silentLogger(),
      hall: this.view(),
      bus: this.bus,
      submit: async (command) => {
        this.commands.push(command);
        const next = this.script.shift();
        if (!next) return { ok: true, events: [] };
        return typeof next === 'function' ? next(command) : next;
      },
      record: async () => {
        throw new Error('counter pads record no device events');
      },
      setAvailability: (online, reason) => this.availability.push(reason === undefined ? { online } : { online, reason }),
      publishState: (state) => (this.lastState = typeof state === 'function' ? state() : state),
      raiseAlarm: () => undefined,
      clearAlarm: () => undefined,
      gpio: () => {
        throw new Error('counter pads use no GPIO');
      },
      publish: () => undefined,
      subscribe: () => () => undefined,
      handleRequest: () => () => undefined,
    };
  }

  emit(event: EventInput): void {
    this.seq += 1;
    this.bus.emit('event', { ...event, at: Date.now(), day: '2026-11-23', seq: this.seq } as SequencedEvent);
  }

  ticket(number: string, state: Ticket['state'], extra: Partial<Ticket> = {}): Ticket {
    const ticket: Ticket = {
      number,
      day: '2026-11-23',
      serviceId: 'ss',
      issuedServiceId: 'ss',
      channel: 'kiosk',
      priority: false,
      items: [],
      issuedAt: Date.now(),
      order: this.tickets.size,
      state,
      recalls: 0,
      transfers: 0,
      ...extra,
    };
    this.tickets.set(number, ticket);
    return ticket;
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function setup(overrides: Record<string, unknown> = {}, simOverrides: Partial<ConstructorParameters<typeof CounterPadSimulator>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hall-pads-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  let pty: PtyPair = await openPtyPair(dir);
  cleanups.push(() => pty.close());
  const hall = new FakeHall();
  hall.windows.set('w1', { id: 'w1', status: 'open', staffId: 's1', priorityStreak: 0 });
  const options = counterPadKind.options.parse({
    port: pty.a,
    pads: [
      { address: 1, window: 'w1' },
      { address: 2, window: 'w2' },
    ],
    ackTimeoutMs: 100,
    ...overrides,
  });
  const driver = counterPadKind.create('pads-1', options, hall.context()) as CounterPadDriver;
  await driver.start();
  cleanups.push(() => driver.stop());
  const sims: CounterPadSimulator[] = [];
  const newSim = async (): Promise<CounterPadSimulator> => {
    const sim = new CounterPadSimulator({ path: pty.b, addresses: [1, 2], ackTimeoutMs: 100, ...simOverrides });
    await sim.start();
    sims.push(sim);
    cleanups.push(() => sim.stop());
    return sim;
  };
  await eventually(() => driver.state().linkOpen, 'link open');
  const sim = await newSim();
  await eventually(() => driver.state().pads.every((p) => p.online), 'pads online');
  return {
    hall,
    driver,
    sim,
    newSim,
    dir,
    unplug: async () => pty.close(),
    replug: async () => {
      pty = await openPtyPair(dir);
      cleanups.push(() => pty.close());
    },
  };
}

describe('counter-pad driver with simulated pads on a real PTY', () => {
  it('validates its options', () => {
    expect(() => counterPadKind.options.parse({ port: '/dev/x', pads: [{ address: 1, window: 'w1' }, { address: 1, window: 'w2' }] })).toThrow(/unique/);
    const parsed = counterPadKind.options.parse({ port: '/dev/x', pads: [{ address: 1, window: 'w1' }] });
    expect(parsed).toMatchObject({ baudRate: 19200, rateTimeoutSeconds: 20 });
  });

  it('turns keys into queue commands and ACKs with the result; the display follows the hall', async () => {
    const { hall, driver, sim } = await setup();
    expect(driver.state().pads.map((p) => p.firmware)).toEqual(['sim-1.0', 'sim-1.0']);
    // Power-up resync: the logged-in idle window and the closed one.
    await eventually(() => sim.displayOf(1)?.line1 === '空闲' && sim.displayOf(2)?.line1 === '请登录', 'initial displays');
    await eventually(() => sim.view(1).led?.colour === 'GREEN', 'initial LED');
    expect(sim.view(1).led).toEqual({ colour: 'GREEN', pattern: 'ON' });
    expect(sim.displayOf(1)).toEqual({ line1: '空闲', line2: '等候 0 人' });

    const called = hall.ticket('A023', 'called', { windowId: 'w1' });
    hall.script.push({ ok: true, events: [], ticket: called });
    const next = await sim.press(1, 'NEXT');
    expect(next).toMatchObject({ ok: true, acked: true, text: 'A023', resends: 0 });

    hall.script.push({ ok: false, code: 'queue-empty', message: 'no ticket waiting for window 2' });
    const refused = await sim.press(2, 'NEXT');
    expect(refused).toMatchObject({ ok: false, acked: true, text: '无人等候' });

    await sim.press(1, { verb: 'LOGIN', staffId: 'S1024', pin: '4321' });
    await sim.press(1, { verb: 'PAUSE', reason: '午休' });
    await sim.press(1, { verb: 'TRANSFER', toServiceId: 'mi' }); // refused locally: w1 has no current ticket yet
    hall.windows.set('w1', { id: 'w1', status: 'open', staffId: 's1', current: 'A023', priorityStreak: 0 });
    await sim.press(1, { verb: 'TRANSFER', toWindowNumber: 4 });
    const noWindow = await sim.press(1, { verb: 'TRANSFER', toWindowNumber: 99 });
    expect(noWindow).toMatchObject({ ok: false, text: '无99号窗口' });
    for (const key of ['RECALL', 'SKIP', 'START', 'FINISH', 'RESUME', 'LOGOUT'] as const) await sim.press(1, key);

    expect(hall.commands).toEqual([
      { type: 'call-next', windowId: 'w1' },
      { type: 'call-next', windowId: 'w2' },
      { type: 'login', windowId: 'w1', staffId: 'S1024' },
      { type: 'pause', windowId: 'w1', reason: '午休' },
      { type: 'transfer', number: 'A023', toWindowId: 'w4' },
      { type: 'recall', windowId: 'w1' },
      { type: 'skip', windowId: 'w1' },
      { type: 'start', windowId: 'w1' },
      { type: 'finish', windowId: 'w1' },
      { type: 'resume', windowId: 'w1' },
      { type: 'logout', windowId: 'w1' },
    ]);

    hall.emit({ type: 'ticket.called', number: 'A023', windowId: 'w1', reason: 'next' });
    await eventually(() => sim.displayOf(1)?.line1 === 'A023 已呼叫', 'called display');
    called.state = 'serving';
    hall.emit({ type: 'ticket.started', number: 'A023', windowId: 'w1' });
    await eventually(() => sim.displayOf(1)?.line1 === 'A023 办理中' && sim.view(1).led?.colour === 'AMBER', 'serving display');
    expect(sim.view(1).led).toEqual({ colour: 'AMBER', pattern: 'ON' });
    const state = driver.state().pads[0]!;
    expect(state).toMatchObject({ keys: 12, refused: 2 });
    expect(driver.state().pads[1]).toMatchObject({ keys: 1, refused: 1 });
  });

  it('executes a resent key frame once and ACKs it again', async () => {
    const { hall, driver, sim } = await setup();
    hall.script.push({ ok: true, events: [], ticket: hall.ticket('A001', 'called') });
    // (Power-up heartbeats may have been resent on a busy box: count from here.)
    const before = driver.state().pads[0]!.duplicates;
    sim.dropNextAcks(1, 2);
    const result = await sim.press(1, 'NEXT');
    // At least the two dropped ACKs caused resends (a slow box may add one more).
    expect(result).toMatchObject({ ok: true, text: 'A001' });
    expect(result.resends).toBeGreaterThanOrEqual(2);
    expect(hall.commands.filter((c) => c.type === 'call-next')).toHaveLength(1);
    expect(driver.state().pads[0]!.duplicates - before).toBeGreaterThanOrEqual(2);
    // The next press has a new seq: it is executed.
    await sim.press(1, 'NEXT');
    expect(hall.commands.filter((c) => c.type === 'call-next')).toHaveLength(2);
  });

  it('runs the rating flow: prompt after finish, rating, pad timeout, host deadline, refusals', async () => {
    const { hall, driver, sim } = await setup({ rateTimeoutSeconds: 1, rateMarginSeconds: 0.2 }, { rateTimeoutScale: 100 });
    const prompts: string[] = [];
    sim.on('rate-request', (address, ticket) => prompts.push(`${address}:${ticket}`));

    hall.emit({ type: 'ticket.finished', number: 'A023', windowId: 'w1' });
    await eventually(() => sim.view(1).rateRequest?.ticket === 'A023', 'prompt A023');
    expect(await sim.rate(1, 5)).toMatchObject({ ok: true });

    hall.emit({ type: 'ticket.finished', number: 'A024', windowId: 'w1' });
    await eventually(() => sim.view(1).rateRequest?.ticket === 'A024', 'prompt A024');
    expect(await sim.expireRating(1)).toMatchObject({ ok: true });

    // The engine refuses a second rating for the same ticket: counted, ACKed NO, no crash.
    hall.script.push({ ok: false, code: 'already-rated', message: 'ticket A024 was already rated' });
    expect(await sim.send(1, { verb: 'RATING', ticket: 'A024', level: 1 })).toMatchObject({ ok: false, text: '已评价' });

    // A pad that never answers: the host records a timeout on its own deadline.
    hall.emit({ type: 'ticket.finished', number: 'A025', windowId: 'w1' });
    await eventually(() => hall.commands.some((c) => c.type === 'rate' && c.number === 'A025'), 'host deadline');

    expect(hall.commands.filter((c) => c.type === 'rate')).toEqual([
      { type: 'rate', windowId: 'w1', number: 'A023', rating: 5 },
      { type: 'rate', windowId: 'w1', number: 'A024', timedOut: true },
      { type: 'rate', windowId: 'w1', number: 'A024', rating: 1 },
      { type: 'rate', windowId: 'w1', number: 'A025', timedOut: true },
    ]);
    expect(prompts).toEqual(['1:A023', '1:A024', '1:A025']);
    await eventually(() => driver.state().pads[0]!.ratingTimeouts === 2, 'counters');
    expect(driver.state().pads[0]).toMatchObject({ ratings: 1, ratingTimeouts: 2, ratingRefused: 1 });
  });

  it('counts malformed lines and keeps working', async () => {
    const { hall, driver, sim } = await setup();
    const good = encodePadFrame(1, 9, { verb: 'NEXT' });
    const badChecksum = Buffer.from(good);
    badChecksum[badChecksum.length - 3] = 0x30;
    await sim.writeRaw(Buffer.concat([
      badChecksum,
      Buffer.from('garbage\r\n'),
      Buffer.alloc(400, 0xb0),
      Buffer.from('\r\n'),
      encodePadFrame(9, 0, { verb: 'NEXT' }), // an address not configured on this line
      Buffer.from([0x3c, 0x30, 0x31, 0x30, 0x7c, 0xff, 0x00, 0x2a, 0x0d, 0x0a]),
    ]));
    await eventually(() => driver.state().unknownAddress === 1, 'rejections counted');
    expect(driver.state().rejectedLines).toMatchObject({ 'bad-checksum': 2, 'bad-start': 1, overflow: 1 });
    expect(hall.commands).toEqual([]);
    expect(await sim.press(1, 'NEXT')).toMatchObject({ ok: true, acked: true });
    expect(hall.commands).toEqual([{ type: 'call-next', windowId: 'w1' }]);
  });

  it('reports the line down and up again, and resyncs a pad that comes back', async () => {
    const { hall, driver, sim, unplug, replug, newSim } = await setup();
    await eventually(() => sim.displayOf(1)?.line1 === '空闲', 'initial display');
    await sim.stop();
    await unplug();
    await eventually(() => hall.availability.at(-1)?.online === false && !driver.state().linkOpen, 'offline');
    expect(driver.state().pads.every((p) => !p.online)).toBe(true);

    hall.windows.set('w1', { id: 'w1', status: 'paused', staffId: 's1', priorityStreak: 0 });
    await replug();
    await eventually(() => hall.availability.at(-1)?.online === true, 'online again');
    const fresh = await newSim();
    await eventually(() => fresh.displayOf(1)?.line1 === '暂停服务' && fresh.view(1).led !== undefined, 'pad resynced');
    expect(driver.state().pads[0]!.online).toBe(true);
    expect(fresh.view(1).led).toEqual({ colour: 'RED', pattern: 'ON' });
  }, 15_000);

  it('marks a pad offline after 3 silent heartbeat periods', async () => {
    const { driver, sim } = await setup({ heartbeatSeconds: 0.1 }, { heartbeatMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(driver.state().pads.every((p) => p.online)).toBe(true);
    await sim.stop();
    await eventually(() => driver.state().pads.every((p) => !p.online), 'pads offline');
    expect(driver.state().linkOpen).toBe(true);
  });
});

describe('autopilot', () => {
  it('rates with a realistic distribution', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i += 1) {
      const level = String(pickRating(() => (i + 0.5) / 1000));
      counts.set(level, (counts.get(level) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ '5': 620, '4': 240, '3': 60, '2': 20, '1': 10, none: 50 });
  });

  it('puts the ACKs of keys pressed together on the line first; displays and rating prompts follow', async () => {
    const { hall, sim } = await setup();
    // Power-up resync done: nothing of it is left outstanding on the line.
    await eventually(() => sim.displayOf(1)?.line1 === '空闲' && sim.displayOf(2)?.line1 === '请登录' && sim.view(1).led !== undefined && sim.view(2).led !== undefined, 'initial displays');
    hall.windows.set('w2', { id: 'w2', status: 'open', staffId: 's2', priorityStreak: 0 });
    // As the hall does: a command's events are out before its submit() resolves.
    const finish = (command: QueueCommand): CommandResult => {
      const windowId = (command as { windowId: string }).windowId;
      hall.emit({ type: 'ticket.finished', number: windowId === 'w1' ? 'A001' : 'A002', windowId });
      return { ok: true, events: [] };
    };
    hall.script.push(finish, finish);
    const heard: string[] = [];
    sim.on('host-frame', (frame) => heard.push(`${frame.address}:${frame.message.verb}`));
    // Both keys in one read, as 16 pads pressing at once on one line arrive.
    await sim.writeRaw(Buffer.concat([encodePadFrame(1, 5, { verb: 'FINISH' }), encodePadFrame(2, 5, { verb: 'FINISH' })]));
    await eventually(() => heard.filter((h) => h.endsWith(':RATE-REQ')).length === 2, 'both prompts');
    expect(heard.slice(0, 2)).toEqual(['1:ACK', '2:ACK']);
    expect(hall.commands).toEqual([
      { type: 'finish', windowId: 'w1' },
      { type: 'finish', windowId: 'w2' },
    ]);
  });

  it('drives a whole service cycle through the driver: login, call, start, finish, rating', async () => {
    const { hall, sim } = await setup({ rateTimeoutSeconds: 1 }, { rateTimeoutScale: 0.2 });
    hall.script = [];
    let n = 0;
    // A hall that calls a ticket on NEXT and emits finished on FINISH, like the engine would.
    const answer = (command: QueueCommand): CommandResult => {
      if (command.type === 'call-next') {
        n += 1;
        const number = `A${String(n).padStart(3, '0')}`;
        hall.ticket(number, 'called', { windowId: command.windowId });
        hall.windows.set(command.windowId, { id: command.windowId, status: 'open', current: number, priorityStreak: 0 });
        return { ok: true, events: [], ticket: hall.tickets.get(number)! };
      }
      if (command.type === 'finish') {
        const number = hall.windows.get(command.windowId)?.current ?? 'A000';
        setImmediate(() => hall.emit({ type: 'ticket.finished', number, windowId: command.windowId }));
      }
      return { ok: true, events: [] };
    };
    for (let i = 0; i < 200; i += 1) hall.script.push(answer);
    const pilot = startAutopilot(sim, { speed: 100, walkUpSeconds: [1, 2], serveSeconds: [3, 5], thinkSeconds: [1, 2], random: () => 0.5 });
    cleanups.push(async () => pilot.stop());
    await eventually(() => hall.commands.filter((c) => c.type === 'rate').length >= 2, 'two rated services');
    pilot.stop();
    const types = hall.commands.map((c) => c.type);
    expect(types.slice(0, 2).sort()).toEqual(['login', 'login']);
    for (const type of ['call-next', 'start', 'finish', 'rate']) expect(types).toContain(type);
    expect(hall.commands.find((c) => c.type === 'rate')).toMatchObject({ rating: 5 });
  }, 15_000);
});
