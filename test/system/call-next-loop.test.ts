import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { issueTickets, loginAll, startHallRig, type HallRig } from '../../bench/call-next-rig.js';
import { Journal } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/platform/logger.js';
import type { SequencedEvent } from '../../src/queue/events.js';
import { connect, Requester } from '../support/daemon-process.js';
import { TEST_USERS } from '../support/hall-config.js';
import { eventually } from '../support/eventually.js';

const ledCallText = (number: string, windowNumber: number) => `${number} 请到${windowNumber}号窗口`;

describe('the call-next loop with 32 windows, through real PTYs, broker and journal', () => {
  let rig: HallRig | undefined;
  let operator: MqttClient | undefined;
  const events: SequencedEvent[] = [];

  afterEach(async () => {
    await operator?.endAsync(true);
    operator = undefined;
    await rig?.close();
    rig = undefined;
    events.length = 0;
  });

  const called = () => events.filter((e): e is Extract<SequencedEvent, { type: 'ticket.called' }> => e.type === 'ticket.called');

  it('32 NEXT presses in the same instant call 32 different tickets, shown on every pad and display and journaled', async () => {
    rig = await startHallRig({ windows: 32, onEvent: (event) => events.push(event) });
    const hall = rig;
    await loginAll(hall);
    const issued = issueTickets(hall, 40);

    // Every pad presses without waiting for any other: the two lines carry 16 frames each at once.
    const presses = await Promise.all(hall.windowIds.map((windowId) => hall.padOf(windowId).sim.press(hall.padOf(windowId).address, 'NEXT')));

    const acked = new Map(hall.windowIds.map((windowId, i) => [windowId, presses[i]!]));
    for (const [windowId, result] of acked) {
      expect(result.ok, `pad of ${windowId}: ${result.text ?? 'no ACK'}`).toBe(true);
      expect(result.text).toMatch(/^[A-C]\d+$/);
    }
    const ackNumbers = [...acked.values()].map((r) => r.text!);
    expect(new Set(ackNumbers).size).toBe(32);
    for (const number of ackNumbers) expect(issued).toContain(number);

    // The MQTT event stream says the same, window by window, with no ticket called twice.
    await eventually(() => called().length === 32, '32 ticket.called events');
    const byWindow = new Map(called().map((e) => [e.windowId, e.number]));
    expect(byWindow.size).toBe(32);
    for (const [windowId, result] of acked) expect(byWindow.get(windowId)).toBe(result.text);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);

    // Every window's LED display and the staff pad's own display show that window's ticket.
    await eventually(() => {
      for (const [windowId, number] of byWindow) {
        const windowNumber = hall.ledAddressOf(windowId);
        expect(hall.led.textOf(windowNumber), `LED of ${windowId}`).toBe(ledCallText(number, windowNumber));
        const { sim, address } = hall.padOf(windowId);
        expect(sim.displayOf(address)?.line1, `pad display of ${windowId}`).toBe(`${number} 已呼叫`);
      }
      return true;
    }, 'every display to show its window’s call');

    // Journaled: the hall's own listing (served from the engine rebuilt from the journal) has each exactly once.
    operator = await connect(hall.mqttUrl, TEST_USERS.operator.username, TEST_USERS.operator.password);
    const requester = new Requester(operator, hall.baseTopic);
    await requester.ready();
    const listing = await requester.request('tickets');
    expect(listing.status).toBe('ok');
    const tickets = (listing.data as { tickets: Array<{ number: string; state: string; windowId?: string }> }).tickets;
    const calledTickets = tickets.filter((t) => t.state === 'called');
    expect(calledTickets.map((t) => t.number).sort()).toEqual([...ackNumbers].sort());
    expect(tickets.filter((t) => t.state === 'waiting')).toHaveLength(8);
    for (const windowId of hall.windowIds) expect(hall.daemon!.hall.engine.windowState(windowId)?.current).toBe(acked.get(windowId)!.text);

    // And on disk: stop the daemon (it holds the journal exclusively) and read today's events back.
    await hall.daemon!.stop();
    const journal = Journal.open(join(hall.config.stateDir, 'journal.db'), silentLogger());
    try {
      const day = journal.currentDay()!;
      const journaledCalls = journal.readDay(day).filter((e) => e.type === 'ticket.called');
      expect(journaledCalls).toHaveLength(32);
      expect(new Map(journaledCalls.map((e) => [e.type === 'ticket.called' ? e.windowId : '', e.type === 'ticket.called' ? e.number : '']))).toEqual(byWindow);
    } finally {
      journal.close();
    }
  });

  it('brings every display up to date after the LED bus was unplugged while calls went on', async () => {
    rig = await startHallRig({ windows: 32, onEvent: (event) => events.push(event) });
    const hall = rig;
    await loginAll(hall);
    issueTickets(hall, 40);

    const first = hall.windowIds.slice(0, 4);
    for (const windowId of first) expect((await hall.padOf(windowId).sim.press(hall.padOf(windowId).address, 'NEXT')).ok).toBe(true);
    await eventually(() => {
      for (const windowId of first) expect(hall.led.textOf(hall.ledAddressOf(windowId))).toMatch(/请到/);
      return true;
    }, 'the first calls on the LED displays');
    const before = new Map(first.map((windowId) => [windowId, hall.led.textOf(hall.ledAddressOf(windowId))]));

    await hall.unplugLed();
    await eventually(() => !hall.led.isOpen, 'the simulator to see the line go');

    // The hall keeps working without its displays: calls, a second call at a window, a pause.
    const during = hall.windowIds.slice(0, 12);
    const results = await Promise.all(during.map((windowId) => hall.padOf(windowId).sim.press(hall.padOf(windowId).address, 'NEXT')));
    for (const result of results) expect(result.ok).toBe(true);
    const paused = hall.windowIds[31]!;
    expect((await hall.padOf(paused).sim.press(hall.padOf(paused).address, 'PAUSE')).ok).toBe(true);
    // Nothing can have reached the displays while the line was out.
    for (const [windowId, text] of before) expect(hall.led.textOf(hall.ledAddressOf(windowId))).toBe(text);

    await hall.replugLed();
    await hall.led.whenOpen(8000);

    const latest = new Map<string, string>();
    for (const event of called()) latest.set(event.windowId, event.number);
    expect(latest.size).toBe(12);
    await eventually(
      () => {
        for (const [windowId, number] of latest) {
          const address = hall.ledAddressOf(windowId);
          expect(hall.led.textOf(address), `LED of ${windowId}`).toBe(ledCallText(number, address));
        }
        expect(hall.led.textOf(hall.ledAddressOf(paused))).toBe('暂停服务');
        expect(hall.led.textOf(hall.ledAddressOf(hall.windowIds[20]!))).toBe('21号窗口 欢迎您');
        expect(hall.led.textOf(100)).toContain(`等候`);
        return true;
      },
      'the displays to catch up after the replug',
    );
    // The displays that changed while unplugged really got new text, not their old one.
    for (const [windowId, text] of before) expect(hall.led.textOf(hall.ledAddressOf(windowId))).not.toBe(text);
  });
});
