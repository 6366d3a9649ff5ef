import { afterEach, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import { openPtyPair } from '../support/pty.js';
import { BusLinkDownError, BusPriority, BusSupersededError, BusTimeoutError, Rs485Bus, SerialLink } from '../../src/platform/serial/index.js';
import { silentLogger } from '../../src/platform/logger.js';
import { eventually } from '../support/eventually.js';

/**
 * A line protocol for the bus tests: the host sends "<dev> <n>\n", the device answers
 * "<dev> ok <n>\n" unless it is silent or the frame ends in " hush" (a request that wants no
 * answer). The device end logs the order frames arrived in.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  bus: Rs485Bus<string>;
  link: SerialLink<string>;
  device: SerialPort;
  received: string[];
  silent: Set<string>;
  closePair(): Promise<void>;
}

async function rig(busOptions: { turnaroundMs?: number } = {}, baudRate = 57600): Promise<Rig> {
  const pty = await openPtyPair();
  cleanups.push(() => pty.close());
  const device = new SerialPort({ path: pty.b, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
  device.on('error', () => undefined);
  cleanups.push(() => new Promise<void>((resolve) => (device.isOpen ? device.close(() => resolve()) : resolve())));
  const received: string[] = [];
  const silent = new Set<string>();
  device.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (line: string) => {
    received.push(line);
    const [dev, n] = line.split(' ');
    if (dev && !silent.has(dev) && !line.endsWith(' hush')) device.write(`${dev} ok ${n}\n`);
  });

  const link = new SerialLink<string>({
    path: pty.a,
    baudRate,
    log: silentLogger(),
    framer: () => new ReadlineParser({ delimiter: '\n' }),
    minBackoffMs: 50,
    presenceCheckMs: 100,
  });
  cleanups.push(() => link.close());
  const bus = new Rs485Bus<string>({ link, log: silentLogger(), offlineAfter: 2, ...busOptions });
  cleanups.push(() => bus.close());
  link.start();
  await link.whenOpen();
  return { bus, link, device, received, silent, closePair: () => pty.close() };
}

const replyTo = (dev: string, n: number) => (frame: string) => frame === `${dev} ok ${n}`;

describe('Rs485Bus over a real PTY pair', () => {
  // (On real hardware the gap counts from the drained UART; a PTY drains at once, so that part is not visible here.)
  it('keeps the turnaround gap between frames that get no reply', async () => {
    const { bus, link, received, silent } = await rig({ turnaroundMs: 40 });
    silent.add('b1').add('b2');
    // Timed where the bus hands frames to the line, in the bus's own process: the device end's
    // read times are not a measure of the gap on a loaded box (a late first read closes it up).
    const handedOver: number[] = [];
    const write = link.write.bind(link);
    link.write = (bytes: Buffer) => {
      handedOver.push(performance.now());
      return write(bytes);
    };
    await Promise.all([bus.send('b1', Buffer.from('b1 1\n')), bus.send('b2', Buffer.from('b2 2\n'))]);
    await eventually(() => expect(received).toEqual(['b1 1', 'b2 2']), 'both frames at the device');
    expect(handedOver).toHaveLength(2);
    // The gap counts from the first frame's last byte leaving (drain), so it is at least the
    // turnaround; 1 ms of slack for a timer that fires on the millisecond boundary.
    expect(handedOver[1]! - handedOver[0]!).toBeGreaterThanOrEqual(39);
  });

  it('transacts with several devices and counts successes per device', async () => {
    const { bus } = await rig();
    const replies = await Promise.all(
      [1, 2, 3].map((n) => bus.transact(`d${n}`, Buffer.from(`d${n} ${n}\n`), replyTo(`d${n}`, n), { timeoutMs: 500 })),
    );
    expect(replies).toEqual(['d1 ok 1', 'd2 ok 2', 'd3 ok 3']);
    expect(bus.stats('d2')).toMatchObject({ ok: 1, timeouts: 0, offline: false });
    expect(bus.stats('d2').lastSeen).toBeTypeOf('number');
  });

  it('times out a silent device with a typed error while the others keep flowing, then skips its retries', async () => {
    const { bus, silent } = await rig();
    silent.add('dead');
    const offline: string[] = [];
    bus.on('device-offline', (key) => offline.push(key));
    const dead = bus.transact('dead', Buffer.from('dead 1\n'), replyTo('dead', 1), { timeoutMs: 100, retries: 1 });
    const alive = bus.transact('live', Buffer.from('live 1\n'), replyTo('live', 1), { timeoutMs: 500 });
    await expect(dead).rejects.toBeInstanceOf(BusTimeoutError);
    await expect(alive).resolves.toBe('live ok 1');
    expect(bus.stats('dead')).toMatchObject({ timeouts: 2, consecutiveFailures: 1, offline: false });

    // Second failure in a row: offline, and from then on one attempt per frame.
    await expect(bus.transact('dead', Buffer.from('dead 2\n'), replyTo('dead', 2), { timeoutMs: 100, retries: 1 })).rejects.toThrow(
      /did not answer \(2 attempt/,
    );
    expect(offline).toEqual(['dead']);
    await expect(bus.transact('dead', Buffer.from('dead 3\n'), replyTo('dead', 3), { timeoutMs: 100, retries: 3 })).rejects.toThrow(
      /did not answer \(1 attempt/,
    );
    expect(bus.stats('dead').timeouts).toBe(5);

    // It answers again: online, counters reset.
    const online: string[] = [];
    bus.on('device-online', (key) => online.push(key));
    silent.delete('dead');
    await expect(bus.transact('dead', Buffer.from('dead 4\n'), replyTo('dead', 4), { timeoutMs: 500 })).resolves.toBe('dead ok 4');
    expect(online).toEqual(['dead']);
    expect(bus.stats('dead')).toMatchObject({ offline: false, consecutiveFailures: 0, ok: 1 });
    expect(bus.stats('live')).toMatchObject({ ok: 1, timeouts: 0 });
  });

  it('puts an urgent frame ahead of queued background frames', async () => {
    const { bus, received, silent, device } = await rig();
    const opts = (priority: number) => ({ timeoutMs: 10_000, priority });
    // The hall display holds its answer to hall 1 until the urgent frame is queued.
    silent.add('hall');
    const jobs = [1, 2, 3, 4].map((n) => bus.transact('hall', Buffer.from(`hall ${n}\n`), replyTo('hall', n), opts(BusPriority.background)));
    await eventually(() => received.includes('hall 1'), 'hall 1 on the wire');
    const urgent = bus.transact('w7', Buffer.from('w7 1\n'), replyTo('w7', 1), opts(BusPriority.urgent));
    silent.delete('hall');
    device.write('hall ok 1\n');
    await Promise.all([...jobs, urgent]);
    // hall 1 was already on the wire; the urgent frame goes next.
    expect(received).toEqual(['hall 1', 'w7 1', 'hall 2', 'hall 3', 'hall 4']);
  });

  it('takes the wire only after the frames queued together are all in: the urgent one of them goes first', async () => {
    const { bus, received } = await rig();
    const opts = (priority: number) => ({ timeoutMs: 500, priority });
    const jobs = [1, 2].map((n) => bus.transact('hall', Buffer.from(`hall ${n}\n`), replyTo('hall', n), opts(BusPriority.background)));
    const urgent = bus.transact('w7', Buffer.from('w7 1\n'), replyTo('w7', 1), opts(BusPriority.urgent));
    await Promise.all([...jobs, urgent]);
    expect(received).toEqual(['w7 1', 'hall 1', 'hall 2']);
  });

  it('asks a lone call on a quiet wire for its answer', async () => {
    const { bus, received } = await rig();
    const answer = await bus.transactOrHurry('w1', Buffer.from('w1 1\n'), replyTo('w1', 1), { timeoutMs: 500, priority: BusPriority.urgent, hurried: Buffer.from('w1 1 hush\n') });
    expect(answer).toBe('w1 ok 1');
    expect(received).toEqual(['w1 1']);
  });

  it('sends a hurried frame (no answer wanted) while more frames of its priority wait, and the last one too while the wire still carries them', async () => {
    // 600 baud: each hush frame is ~170 ms on the wire, so w3 is written while w1 and w2 still cross it.
    const { bus, received } = await rig({}, 600);
    const call = (n: number) =>
      bus.transactOrHurry(`w${n}`, Buffer.from(`w${n} 1\n`), replyTo(`w${n}`, 1), { timeoutMs: 500, priority: BusPriority.urgent, hurried: Buffer.from(`w${n} 1 hush\n`) });
    const hall = bus.transact('hall', Buffer.from('hall 1\n'), replyTo('hall', 1), { timeoutMs: 500, priority: BusPriority.background });
    const answers = await Promise.all([call(1), call(2), call(3), hall]);
    // w1 and w2 had calls behind them; w3 had only a background frame behind it, but w1 and w2 ahead of it on the wire.
    expect(received).toEqual(['w1 1 hush', 'w2 1 hush', 'w3 1 hush', 'hall 1']);
    expect(answers).toEqual([undefined, undefined, undefined, 'hall ok 1']);
  });

  it('starts the reply timer when the request has left the wire, not when the kernel took it behind a backlog', async () => {
    // 600 baud: each 11-byte hurried frame is ~183 ms of wire, so the last request leaves
    // ~0.9 s after it was written. The device answers it 400 ms after it arrives (as if it only
    // got it then): a timer started at the write (150 ms) would give up long before.
    const { bus, device, received, silent } = await rig({}, 600);
    silent.add('w5');
    device.on('data', () => {
      if (received.includes('w5 1') && !received.includes('answered')) {
        received.push('answered');
        setTimeout(() => device.write('w5 ok 1\n'), 400);
      }
    });
    const call = (n: number) =>
      bus.transactOrHurry(`w${n}`, Buffer.from(`w${n} 1\n`), replyTo(`w${n}`, 1), { timeoutMs: 150, retries: 0, priority: BusPriority.urgent, hurried: Buffer.from(`w${n} 1 hush\n`) });
    // w5 is a frame that always wants its answer (say the hall display's), queued behind the calls.
    const calls = [1, 2, 3, 4].map(call);
    const last = bus.transact('w5', Buffer.from('w5 1\n'), replyTo('w5', 1), { timeoutMs: 150, retries: 0, priority: BusPriority.urgent });
    const answers = await Promise.all([...calls, last]);
    expect(answers).toEqual([undefined, undefined, undefined, undefined, 'w5 ok 1']);
    expect(bus.stats('w5').timeouts).toBe(0);
  });

  it('holds a confirmation back while the wire still carries what was written before it: a call queued meanwhile goes first', async () => {
    // 600 baud: the 61-byte frame is ~1 s on the wire after the kernel took it.
    const { bus, device, received } = await rig({}, 600);
    let call: Promise<string> | undefined;
    device.on('data', () => {
      if (received.includes(`w1 ${'x'.repeat(55)}`) && !call) call = bus.transact('w2', Buffer.from('w2 1\n'), replyTo('w2', 1), { timeoutMs: 2000, priority: BusPriority.urgent });
    });
    const sent = bus.send('w1', Buffer.from(`w1 ${'x'.repeat(55)}\n`), { priority: BusPriority.urgent });
    const confirmation = bus.transact('w9', Buffer.from('w9 1\n'), replyTo('w9', 1), { timeoutMs: 3000, priority: BusPriority.confirm });
    await sent;
    await eventually(() => call !== undefined, 'the device heard w1');
    expect(await call).toBe('w2 ok 1');
    expect(await confirmation).toBe('w9 ok 1');
    expect(received).toEqual([`w1 ${'x'.repeat(55)}`, 'w2 1', 'w9 1']);
  });

  it('drops a frame that is no longer wanted when it reaches the wire', async () => {
    const { bus, received } = await rig();
    let wanted = true;
    const first = bus.transact('w1', Buffer.from('w1 1\n'), replyTo('w1', 1), { timeoutMs: 500 });
    const stale = bus.transact('w1', Buffer.from('w1 2\n'), replyTo('w1', 2), { timeoutMs: 500, stillWanted: () => wanted });
    wanted = false;
    await expect(first).resolves.toBe('w1 ok 1');
    await expect(stale).rejects.toBeInstanceOf(BusSupersededError);
    expect(received).toEqual(['w1 1']);
  });

  it('reports frames that answer nothing as unsolicited', async () => {
    const { bus, device } = await rig();
    const unsolicited: string[] = [];
    bus.on('unsolicited', (frame) => unsolicited.push(frame));
    device.write('k3 key CALL\n');
    await bus.send('k1', Buffer.from('k1 9\n'));
    // the device's answer to "k1 9" is unsolicited too: nothing waited for it
    await eventually(() => unsolicited.length >= 2, 'two unsolicited frames');
    expect(unsolicited).toEqual(['k3 key CALL', 'k1 ok 9']);
    expect(bus.unsolicitedFrames).toBe(2);
  });

  it('fails queued frames fast when the link drops, and reports down/up', async () => {
    const { bus, received, silent, closePair } = await rig();
    silent.add('slow');
    const downs: string[] = [];
    bus.on('down', (reason) => downs.push(reason));
    const inFlight = bus.transact('slow', Buffer.from('slow 1\n'), replyTo('slow', 1), { timeoutMs: 5000 });
    const queued = bus.transact('other', Buffer.from('other 1\n'), replyTo('other', 1), { timeoutMs: 5000 });
    await eventually(() => received.includes('slow 1'), 'the first frame at the device, its answer awaited');
    const outcomes = Promise.all([inFlight.catch((err: unknown) => err), queued.catch((err: unknown) => err)]);
    await closePair();
    const [first, second] = await outcomes;
    expect(first).toBeInstanceOf(BusLinkDownError);
    expect(second).toBeInstanceOf(BusLinkDownError);
    expect(downs).toEqual(['disconnected']);
    expect(bus.isUp).toBe(false);
    await expect(bus.send('x', Buffer.from('x\n'))).rejects.toBeInstanceOf(BusLinkDownError);
  });
});
