import { describe, expect, it } from 'vitest';
import { ticketsAhead } from '../../src/queue/ahead.js';
import { QueueEngine } from '../../src/queue/engine.js';
import { QueueError, type QueueCommand } from '../../src/queue/commands.js';
import { MINUTE, MONDAY_9AM, smallModel } from '../support/model.js';

function hall(policy = {}) {
  const engine = new QueueEngine(smallModel({ policy }));
  const run = (command: QueueCommand, at = MONDAY_9AM) => engine.run(command, at);
  const refusal = (command: QueueCommand, at = MONDAY_9AM): { code: string; message: string } => {
    try {
      run(command, at);
    } catch (err) {
      if (err instanceof QueueError) return { code: err.code, message: err.message };
      throw err;
    }
    throw new Error('expected a refusal');
  };
  const appointment = (slotStart: number, slotEnd = slotStart + 30 * MINUTE): QueueCommand => ({ type: 'issue', serviceId: 'ss', channel: 'appointment', appointment: { slotStart, slotEnd } });
  const issued = (command: QueueCommand, at = MONDAY_9AM): string => {
    const e = run(command, at).find((x) => x.type === 'ticket.issued');
    if (e?.type !== 'ticket.issued') throw new Error('not issued');
    return e.ticket.number;
  };
  return { engine, run, refusal, appointment, issued };
}

describe('appointment checks', () => {
  it('refuses a slot on another day, and a slot no date can hold (it would never be called)', () => {
    const h = hall();
    expect(h.refusal(h.appointment(MONDAY_9AM + 24 * 60 * MINUTE)).code).toBe('appointment-day');
    expect(h.refusal(h.appointment(MONDAY_9AM - 24 * 60 * MINUTE)).code).toBe('appointment-day');
    // A slot starting today and ending tomorrow is not a slot of today.
    expect(h.refusal(h.appointment(MONDAY_9AM, MONDAY_9AM + 24 * 60 * MINUTE)).code).toBe('appointment-day');
    expect(h.refusal(h.appointment(8.64e15 + 1, 8.64e15 + 2)).code).toBe('bad-request');
    expect(h.refusal(h.appointment(MONDAY_9AM + 30 * MINUTE, MONDAY_9AM)).code).toBe('bad-request');
    expect(h.issued(h.appointment(MONDAY_9AM + 60 * MINUTE))).toBe('A001');
  });

  it('refuses a holder who comes later than the grace after the slot ended; the grace is the policy', () => {
    const h = hall();
    const slotStart = MONDAY_9AM;
    const slotEnd = slotStart + 30 * MINUTE;
    // Within the default 15 minutes after the slot's end: accepted.
    expect(h.issued(h.appointment(slotStart, slotEnd), slotEnd + 15 * MINUTE)).toBe('A001');
    const late = h.refusal(h.appointment(slotStart, slotEnd), slotEnd + 90 * MINUTE);
    expect(late.code).toBe('appointment-late');
    expect(late.message).toContain('09:30');
    const strict = hall({ appointmentLateGraceMinutes: 0 });
    expect(strict.refusal(strict.appointment(slotStart, slotEnd), slotEnd + MINUTE).code).toBe('appointment-late');
  });

  it('counts for an appointment ticket the appointments really ahead of it, not its place among walk-ins', () => {
    const h = hall();
    const y1 = h.issued(h.appointment(MONDAY_9AM + 120 * MINUTE)); // A001: 11:00
    const walkIn = h.issued({ type: 'issue', serviceId: 'ss', channel: 'kiosk' }); // A002
    const y2 = h.issued(h.appointment(MONDAY_9AM + 60 * MINUTE)); // A003: 10:00, booked later but earlier slot
    const y3 = h.issued(h.appointment(MONDAY_9AM + 120 * MINUTE)); // A004: 11:00, same slot as A001
    expect(ticketsAhead(h.engine, y1)).toBe(1); // A003's earlier slot
    expect(ticketsAhead(h.engine, y2)).toBe(0);
    expect(ticketsAhead(h.engine, y3)).toBe(2); // A003, and A001 booked first for the same slot
    expect(ticketsAhead(h.engine, walkIn)).toBe(1); // its place in line, as before
  });
});

describe('skills and explicit overrides', () => {
  it('refuses to call a ticket to a window that does not take its service, unless told to override', () => {
    const h = hall();
    h.run({ type: 'login', windowId: 'w3', staffId: 's3' }); // w3 takes retirement only
    const number = h.issued({ type: 'issue', serviceId: 'mi', channel: 'kiosk' });
    const refused = h.refusal({ type: 'call', windowId: 'w3', number });
    expect(refused.code).toBe('skill');
    expect(refused.message).toContain('override: true');
    const events = h.run({ type: 'call', windowId: 'w3', number, override: true });
    expect(events.some((e) => e.type === 'ticket.called' && e.windowId === 'w3')).toBe(true);
  });

  it('refuses a transfer to a named window without the destination service, unless told to override', () => {
    const h = hall();
    const number = h.issued({ type: 'issue', serviceId: 'ss', channel: 'kiosk' });
    expect(h.refusal({ type: 'transfer', number, toWindowId: 'w3' }).code).toBe('skill');
    // Changing the service at the same time makes it w3's business.
    h.run({ type: 'transfer', number, toServiceId: 'rt', toWindowId: 'w3' });
    expect(h.engine.waitingForWindow('w3').map((t) => t.number)).toEqual([number]);
    // A ticket sent to w3 by name may be called there directly.
    h.run({ type: 'login', windowId: 'w3', staffId: 's3' });
    h.run({ type: 'call', windowId: 'w3', number });
  });
});
