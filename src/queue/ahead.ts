import type { QueueEngine } from './engine.js';
import type { Ticket } from './ticket.js';

/**
 * How many tickets will be called before this waiting ticket (null when it is not waiting).
 *
 * A normal ticket: its place in its line. An appointment ticket is not called by its place but
 * at its slot, ahead of the walk-ins (call-policy step 1), earliest slot first: what is really
 * ahead of it is the appointments of its line with an earlier slot (or the same slot, booked
 * earlier) — not "0" because it happens to stand first in a line it is not yet callable from.
 */
export function ticketsAhead(engine: QueueEngine, number: string): number | null {
  const ticket = engine.ticket(number);
  if (!ticket || ticket.state !== 'waiting') return null;
  const line = ticket.targetWindowId ? engine.waitingForWindow(ticket.targetWindowId) : engine.waiting(ticket.serviceId);
  const slot = ticket.appointment?.slotStart;
  if (slot === undefined) return line.findIndex((t) => t.number === number);
  let ahead = 0;
  for (const other of line) {
    const otherSlot = other.appointment?.slotStart;
    if (other.number === number || otherSlot === undefined) continue;
    if (otherSlot < slot || (otherSlot === slot && other.order < ticket.order)) ahead += 1;
  }
  return ahead;
}

/**
 * `ticketsAhead` for many tickets at once: each waiting line they stand in is walked once, not
 * once per ticket (after every call the hall asks this for every ticket whose visitor left a
 * contact). Appointment tickets, which are not called by their place, are asked one by one.
 * Numbers that are not waiting are left out of the answer.
 */
export function ticketsAheadOfMany(engine: QueueEngine, numbers: Iterable<string>): Map<string, number> {
  const ahead = new Map<string, number>();
  const lines = new Map<string, Ticket[]>();
  for (const number of numbers) {
    const ticket = engine.ticket(number);
    if (!ticket || ticket.state !== 'waiting') continue;
    if (ticket.appointment) {
      ahead.set(number, ticketsAhead(engine, number)!);
      continue;
    }
    const key = ticket.targetWindowId ? `window:${ticket.targetWindowId}` : `service:${ticket.serviceId}`;
    let wanted = lines.get(key);
    if (!wanted) lines.set(key, (wanted = []));
    wanted.push(ticket);
  }
  for (const wanted of lines.values()) {
    const first = wanted[0]!;
    const line = first.targetWindowId ? engine.waitingForWindow(first.targetWindowId) : engine.waiting(first.serviceId);
    const place = new Map<string, number>();
    line.forEach((t, index) => place.set(t.number, index));
    for (const ticket of wanted) {
      const index = place.get(ticket.number);
      if (index !== undefined) ahead.set(ticket.number, index);
    }
  }
  return ahead;
}
