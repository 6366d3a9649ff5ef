import type { QueuePolicy, WindowDef } from './model.js';
import type { Ticket, WindowState } from './ticket.js';
import type { WaitingLines } from './waiting-lines.js';

export interface CallPolicyInput {
  window: WindowDef;
  windowState: WindowState;
  policy: QueuePolicy;
  lines: WaitingLines;
  tickets: ReadonlyMap<string, Ticket>;
  now: number;
}

/** Line keys: a service's line, and the personal line of a window (named-window transfers). */
export const serviceLine = (serviceId: string): string => `s:${serviceId}`;
export const windowLine = (windowId: string): string => `w:${windowId}`;

/**
 * Which waiting ticket a window calls next, in the hall's order:
 *   1. appointments whose slot has begun (earliest slot first);
 *   2. tickets transferred to this very window (oldest place first);
 *   3. priority tickets of the window's services, unless the starvation guard says a normal
 *      ticket's turn has come;
 *   4. the window's services by preference (or by weighted waiting time), oldest first.
 * Appointments whose slot has not begun are not called: the person booked a time.
 */
export function selectNext(input: CallPolicyInput): Ticket | undefined {
  const { window, windowState, policy, lines, tickets, now } = input;
  const earlyMs = policy.appointmentEarlyMinutes * 60_000;
  const callable = (ticket: Ticket): boolean => !ticket.appointment || ticket.appointment.slotStart - earlyMs <= now;

  const skillLines = window.skills.map((skill) => lines.line(serviceLine(skill.serviceId)));
  const direct = lines.line(windowLine(window.id));

  // 1. Appointments due now.
  let appointment: Ticket | undefined;
  for (const line of [direct, ...skillLines]) {
    for (const entry of line) {
      const ticket = tickets.get(entry.number);
      if (!ticket?.appointment || !callable(ticket)) continue;
      if (
        !appointment ||
        ticket.appointment.slotStart < appointment.appointment!.slotStart ||
        (ticket.appointment.slotStart === appointment.appointment!.slotStart && ticket.order < appointment.order)
      ) {
        appointment = ticket;
      }
    }
  }
  if (appointment) return appointment;

  // 2. Named-window transfers.
  for (const entry of direct) {
    const ticket = tickets.get(entry.number);
    if (ticket && callable(ticket)) return ticket;
  }

  // 3. Priority tickets.
  const jumpsPriority = window.priorityWindow || policy.priorityServedBy === 'all-windows';
  let normalOnly = false;
  if (jumpsPriority) {
    const oldestPriority = oldestAcross(skillLines, tickets, (t) => t.priority && callable(t));
    if (oldestPriority) {
      const guardApplies = !window.priorityWindow && policy.priorityGuard > 0 && windowState.priorityStreak >= policy.priorityGuard;
      const normalWaiting = guardApplies && oldestAcross(skillLines, tickets, (t) => !t.priority && callable(t)) !== undefined;
      if (!normalWaiting) return oldestPriority;
      normalOnly = true;
    }
  }

  // 4. The window's services.
  const eligible = (ticket: Ticket): boolean => callable(ticket) && (!normalOnly || !ticket.priority);
  if (window.skillMode === 'weighted') {
    let best: Ticket | undefined;
    let bestScore = -Infinity;
    window.skills.forEach((skill, index) => {
      const ticket = firstIn(skillLines[index]!, tickets, eligible);
      if (!ticket) return;
      const score = (now - ticket.issuedAt + 1) * skill.weight;
      if (score > bestScore) {
        best = ticket;
        bestScore = score;
      }
    });
    return best;
  }
  for (const line of skillLines) {
    const ticket = firstIn(line, tickets, eligible);
    if (ticket) return ticket;
  }
  return undefined;
}

function firstIn(
  line: ReadonlyArray<{ number: string }>,
  tickets: ReadonlyMap<string, Ticket>,
  accept: (ticket: Ticket) => boolean,
): Ticket | undefined {
  for (const entry of line) {
    const ticket = tickets.get(entry.number);
    if (ticket && accept(ticket)) return ticket;
  }
  return undefined;
}

function oldestAcross(
  lines: ReadonlyArray<ReadonlyArray<{ number: string }>>,
  tickets: ReadonlyMap<string, Ticket>,
  accept: (ticket: Ticket) => boolean,
): Ticket | undefined {
  let oldest: Ticket | undefined;
  for (const line of lines) {
    const ticket = firstIn(line, tickets, accept);
    if (ticket && (!oldest || ticket.order < oldest.order)) oldest = ticket;
  }
  return oldest;
}
