import { afterEach, describe, expect, it } from 'vitest';
import { dispenserOptions } from '../../devices/dispenser/options.js';
import { DispenserDriver, type IssueOutcome } from '../../devices/dispenser/driver.js';
import { PrinterSimulator } from '../../devices/ticket-printer/simulator.js';
import { FakeGpiod } from '../support/fake-gpiod.js';
import { openPtyPair } from '../support/pty.js';
import { eventually } from '../support/eventually.js';
import { MONDAY_9AM, MINUTE, smallModel } from '../support/model.js';
import { FakeHall, type FakeContext } from './dispenser-context.js';
import { SerialPort } from 'serialport';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(hall: FakeHall, id: string, extra: Record<string, unknown> = {}, printer: Record<string, unknown> = {}) {
  const sim = new PrinterSimulator();
  await sim.listenTcp(0);
  cleanups.push(() => sim.close());
  const options = dispenserOptions.parse({
    hallName: { zh: '政务服务中心', en: 'Service Centre' },
    ticketUrl: 'https://hall.example/t/{day}/{number}',
    printer: { interface: sim.url, statusPollMs: 0, confirmTimeoutMs: 3000, statusTimeoutMs: 2000, ...printer },
    ...extra,
  });
  const ctx = hall.context(id);
  const driver = new DispenserDriver(id, options, ctx);
  await driver.start();
  cleanups.push(() => driver.stop());
  return { sim, ctx, driver };
}

function issuedNumbers(hall: FakeHall): string[] {
  return hall.journal.flatMap((e) => (e.type === 'ticket.issued' ? [e.ticket.number] : []));
}

describe('dispenser', () => {
  it('issues and prints on a press and on an MQTT request, with waiting count and QR', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const { sim, ctx, driver } = await setup(hall, 'd1');
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toEqual({ ok: true, number: 'A001', serviceId: 'ss' });
    ctx.deliver('issue', { serviceId: 'ss', transaction: 't-7' });
    const [response] = await ctx.waitForPublished('issue/response');
    expect(response).toEqual({ transaction: 't-7', status: 'ok', data: { number: 'A002', serviceId: 'ss' } });
    const [first, second] = await sim.waitForTickets(2);
    expect(first!.lines).toContain('A001');
    expect(first!.lines).toContain('前面还有 0 人等候');
    expect(first!.lines).toContain('社保');
    expect(first!.lines).toContain('政务服务中心');
    expect(first!.qr).toEqual(['https://hall.example/t/2026-11-23/A001']);
    expect(second!.lines).toContain('前面还有 1 人等候');
    expect(second!.lines).toContain('预计等候约 16 分钟');
    expect(ctx.availability).toEqual([true]);
  });

  it('prints the hall\'s phone page as the QR when the kiosk has no ticketUrl of its own (its own still wins)', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    Object.assign(hall.view, { ticketPageUrl: (day: string, number: string) => `http://10.0.0.5:8080/t/${day}/${number}?k=tok-${number}` });
    const { sim, driver } = await setup(hall, 'd1', { ticketUrl: undefined });
    expect((await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).ok).toBe(true);
    const [own] = await setup(hall, 'd2').then(async ({ sim: other, driver: second }) => {
      expect((await second.issue({ serviceId: 'ss', channel: 'kiosk' })).ok).toBe(true);
      return other.waitForTickets(1);
    });
    const [printed] = await sim.waitForTickets(1);
    expect(printed!.qr).toEqual(['http://10.0.0.5:8080/t/2026-11-23/A001?k=tok-A001']);
    expect(own!.qr).toEqual(['https://hall.example/t/2026-11-23/A002']);
  });

  it('answers a malformed MQTT request with an error and keeps working', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const { ctx, driver } = await setup(hall, 'd1');
    ctx.deliver('issue', { serviceId: 42, transaction: 'bad' });
    ctx.deliver('issue', null);
    ctx.deliver('reprint', 'nonsense');
    const responses = await ctx.waitForPublished('issue/response', 2);
    expect(responses).toContainEqual(expect.objectContaining({ transaction: 'bad', status: 'error', code: 'bad-request' }));
    expect(responses).toContainEqual({ status: 'error', code: 'bad-request', error: expect.stringContaining('JSON object') });
    // Requests are refused in the envelope of bridge/response (counted by the bridge in the daemon).
    expect((await ctx.waitForPublished('reprint/response'))[0]).toMatchObject({ status: 'error', code: 'bad-request' });
    expect((await driver.issue({ serviceId: 'nope', channel: 'kiosk' })).ok).toBe(false);
    expect(issuedNumbers(hall)).toEqual([]);
  });

  it('goes to fault on paper out: presses refused, no number issued; recovers when paper is back', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const { sim, ctx, driver } = await setup(hall, 'd1', {}, { statusPollMs: 30 });
    let beeps = 0;
    sim.on('beep', () => (beeps += 1));
    sim.setFaults({ paperOut: true });
    await eventually(() => driver.state === 'fault', 'the dispenser in fault');
    expect(ctx.lastState()).toMatchObject({ state: 'fault', reason: 'paper-out', printer: { paperOut: true } });
    expect(ctx.alarms.get('printer-fault')?.severity).toBe('critical');
    const refused = await driver.issue({ serviceId: 'ss', channel: 'kiosk' });
    expect(refused).toMatchObject({ ok: false, code: 'printer-fault' });
    ctx.deliver('issue', { serviceId: 'ss', transaction: 1 });
    expect((await ctx.waitForPublished('issue/response'))[0]).toMatchObject({ transaction: 1, status: 'error', code: 'printer-fault' });
    expect(issuedNumbers(hall)).toEqual([]);
    expect(sim.tickets).toHaveLength(0);
    // Everything goes down one printer connection in order: once two more status polls have been
    // answered, the beeps sent before them have reached the (still faulted) printer.
    const polled = sim.statusRequests;
    await eventually(() => sim.statusRequests >= polled + 8, 'two more status polls');
    sim.setFaults({ paperOut: false });
    await eventually(() => driver.state === 'ready', 'the dispenser ready');
    expect(ctx.alarms.has('printer-fault')).toBe(false);
    expect(ctx.lastState()).toMatchObject({ state: 'ready', reason: null });
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: true, number: 'A001' });
    expect((await sim.waitForTickets(1))[0]!.lines).toContain('A001');
    // Beeps were sent while faulted, but a stopped printer discards them; the refusal is what counts.
    expect(beeps).toBe(0);
  });

  it('voids a number whose print failed, never prints it, and carries on after the paper is changed', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const { sim, ctx, driver } = await setup(hall, 'd1', {}, { confirmTimeoutMs: 1500 });
    sim.setPaperRemaining(4);
    const outcome = await driver.issue({ serviceId: 'ss', channel: 'kiosk' });
    expect(outcome).toMatchObject({ ok: false, code: 'print-failed', number: 'A001' });
    const voided = hall.journal.find((e) => e.type === 'ticket.voided');
    expect(voided).toMatchObject({ number: 'A001' });
    expect(voided && 'reason' in voided ? voided.reason : '').toMatch(/^print failed: /);
    expect(driver.state).toBe('fault');
    expect(ctx.lastState()).toMatchObject({ state: 'fault', reason: 'paper-out', failedPrints: [{ number: 'A001' }] });
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: false, code: 'printer-fault' });
    expect(issuedNumbers(hall)).toEqual(['A001']);
    sim.setFaults({ paperOut: false });
    expect(await driver.issue({ serviceId: 'ss', channel: 'kiosk' })).toMatchObject({ ok: true, number: 'A002' });
    expect(driver.state).toBe('ready');
    // An operator reprint: refused for the voided one, done for a live one.
    ctx.deliver('reprint', { number: 'A001', transaction: 'r1' });
    ctx.deliver('reprint', { number: 'A002', transaction: 'r2' });
    const responses = await ctx.waitForPublished('reprint/response', 2);
    expect(responses[0]).toMatchObject({ transaction: 'r1', status: 'error', code: 'bad-state' });
    expect(responses[1]).toMatchObject({ transaction: 'r2', status: 'ok', data: { number: 'A002' } });
    const tickets = await sim.waitForTickets(2);
    expect(tickets.map((t) => t.lines.find((l) => /^A\d{3}$/.test(l)))).toEqual(['A002', 'A002']);
    expect(tickets[1]!.lines).toContain('补打 REPRINT');
    expect(tickets.some((t) => t.lines.includes('A001'))).toBe(false);
  });

  it('a burst of 200 presses across 4 dispensers prints every number exactly once, in order', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const dispensers = await Promise.all(['d1', 'd2', 'd3', 'd4'].map((id) => setup(hall, id)));
    const presses: Array<{ dispenser: number; promise: Promise<IssueOutcome> }> = [];
    for (let i = 0; i < 200; i++) {
      const dispenser = i % 4;
      const serviceId = (i * 7) % 3 === 0 ? 'mi' : 'ss';
      presses.push({ dispenser, promise: dispensers[dispenser]!.driver.issue({ serviceId, channel: 'kiosk' }) });
    }
    const outcomes = await Promise.all(presses.map((p) => p.promise));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const issued = issuedNumbers(hall);
    expect(issued).toHaveLength(200);
    const printed: string[] = [];
    for (const [index, { sim }] of dispensers.entries()) {
      const expected = presses.flatMap((p, i) => (p.dispenser === index ? [(outcomes[i] as { number: string }).number] : []));
      const tickets = await sim.waitForTickets(expected.length);
      const numbers = tickets.map((t) => t.lines.find((l) => /^[AB]\d{3}$/.test(l))!);
      expect(numbers).toEqual(expected); // this dispenser printed in press order
      for (const prefix of ['A', 'B']) {
        const own = numbers.filter((n) => n.startsWith(prefix));
        expect([...own].sort()).toEqual(own); // increasing within each service
      }
      printed.push(...numbers);
    }
    expect([...printed].sort()).toEqual([...issued].sort());
    expect(new Set(printed).size).toBe(200);
  });

  it('takes a number when a GPIO button is pressed (the context\'s chardev backend, gpiomon as a real process)', async () => {
    const gpiod = new FakeGpiod();
    cleanups.push(async () => gpiod.close());
    const restorePath = gpiod.install();
    cleanups.push(async () => restorePath());
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const { sim } = await setup(hall, 'd1', { buttons: [{ service: 'mi', gpio: { backend: 'chardev', line: 17 } }, { service: 'ss', priority: true, gpio: { backend: 'chardev', line: 18 } }] });
    gpiod.press('gpiochip0', 17);
    const first = await sim.waitForTickets(1);
    expect(first[0]!.lines).toContain('B001');
    gpiod.press('gpiochip0', 18);
    const tickets = await sim.waitForTickets(2);
    expect(tickets[1]!.lines).toContain('A001');
    expect(tickets[1]!.lines).toContain('优先 PRIORITY');
    expect(hall.engine.ticket('A001')?.priority).toBe(true);
  });

  it('checks appointments in from a serial reader and prints the slot', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    const { sim, ctx, driver } = await setup(hall, 'd1', { appointmentReader: { port: pty.a, baudRate: 9600 }, appointments: { salt: 'test-salt-123' } });
    const id = '11010519491231002X';
    driver.loadAppointments([
      { serviceId: 'mi', slotStart: MONDAY_9AM + 10 * MINUTE, slotEnd: MONDAY_9AM + 40 * MINUTE, code: 'YY2026A' },
      { serviceId: 'ss', slotStart: MONDAY_9AM + 20 * MINUTE, slotEnd: MONDAY_9AM + 50 * MINUTE, idNumber: id },
      { serviceId: 'ss', slotStart: MONDAY_9AM + 5 * 60 * MINUTE, slotEnd: MONDAY_9AM + 6 * 60 * MINUTE, code: 'LATER1' },
    ]);
    const reader = new SerialPort({ path: pty.b, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => reader.open((err) => (err ? reject(err) : resolve())));
    cleanups.push(() => new Promise<void>((resolve) => reader.close(() => resolve())));
    await eventually(() => driver.readerConnected, 'the reader port open');
    reader.write('CODE:YY2026A\r\n');
    reader.write(`${id}\r\n`);
    reader.write('\xff\xfe garbage\r\n');
    reader.write(`CODE:${'A'.repeat(5000)}\r\n`); // a babbling reader: refused without buffering it all
    reader.write('code:yy2026a\r\n');
    reader.write('LATER1\r\n');
    const checkins = await ctx.waitForPublished('checkin', 4);
    expect(checkins).toMatchObject([
      { ok: true, number: 'B001' },
      { ok: true, number: 'A001' },
      { ok: false, reason: 'used' },
      { ok: false, reason: 'too-early' },
    ]);
    expect(driver.counters.readerRejects).toBe(2);
    const tickets = await sim.waitForTickets(2);
    expect(tickets[0]!.lines).toContain('预约时段 09:10-09:40');
    const ticket = hall.engine.ticket('A001')!;
    expect(ticket.channel).toBe('appointment');
    expect(ticket.appointment?.reference).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(hall.journal)).not.toContain(id);
  });

  it('reopens an unplugged appointment reader by itself and clears its alarm (shared serial link)', async () => {
    const hall = new FakeHall(smallModel(), MONDAY_9AM);
    const dir = mkdtempSync(join(tmpdir(), 'reader-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const pty = await openPtyPair(dir);
    const { ctx, driver } = await setup(hall, 'd1', { appointmentReader: { port: pty.a, baudRate: 9600 }, appointments: { salt: 'test-salt-123' } });
    driver.loadAppointments([{ serviceId: 'mi', slotStart: MONDAY_9AM + 10 * MINUTE, slotEnd: MONDAY_9AM + 40 * MINUTE, code: 'YY2026A' }]);
    await eventually(() => driver.readerConnected, 'the reader port open');

    await pty.close(); // the USB reader is pulled
    await eventually(() => ctx.alarms.has('reader-offline'), 'reader-offline raised');
    expect(driver.readerConnected).toBe(false);

    const again = await openPtyPair(dir); // plugged back in: the same device path appears again
    cleanups.push(() => again.close());
    await eventually(() => driver.readerConnected && !ctx.alarms.has('reader-offline'), 'the reader reopened, its alarm cleared');
    const reader = new SerialPort({ path: again.b, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => reader.open((err) => (err ? reject(err) : resolve())));
    cleanups.push(() => new Promise<void>((resolve) => reader.close(() => resolve())));
    reader.write('CODE:YY2026A\r\n');
    expect(await ctx.waitForPublished('checkin', 1)).toMatchObject([{ ok: true, number: 'B001' }]);
    expect(ctx.alarmLog).toEqual(['raise reader-offline', 'clear reader-offline']);
  });
});
