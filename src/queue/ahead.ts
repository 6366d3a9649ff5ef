import type { QueueEngine } from './engine.js';

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
