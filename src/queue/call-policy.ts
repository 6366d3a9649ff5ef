import type { QueuePolicy, WindowDef } from './model.js';
import type { Ticket, WindowState } from './ticket.js';
import type { LineEntry, WaitingLines } from './waiting-lines.js';

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
  const due = (entry: LineEntry): boolean => {
    if (!entry.appointment) return true;
    const appointment = tickets.get(entry.number)?.appointment;
    return appointment !== undefined && appointment.slotStart - earlyMs <= now;
  };
  const skillKeys = window.skills.map((skill) => serviceLine(skill.serviceId));
  const directKey = windowLine(window.id);

  // 1. Appointments due now (lines without appointment tickets are skipped unread).
  let appointment: Ticket | undefined;
  for (const key of [directKey, ...skillKeys]) {
    if (lines.appointments(key) === 0) continue;
    for (const entry of lines.line(key)) {
      if (!entry.appointment || !due(entry)) continue;
      const ticket = tickets.get(entry.number)!;
      const slot = ticket.appointment!.slotStart;
      const best = appointment?.appointment?.slotStart;
      if (best === undefined || slot < best || (slot === best && ticket.order < appointment!.order)) appointment = ticket;
    }
  }
  if (appointment) return appointment;

  // 2. Named-window transfers.
  const direct = firstIn(lines.line(directKey), due);
  if (direct) return tickets.get(direct.number);

  // 3. Priority tickets.
  const jumpsPriority = window.priorityWindow || policy.priorityServedBy === 'all-windows';
  let normalOnly = false;
  if (jumpsPriority) {
    let oldestPriority: LineEntry | undefined;
    for (const key of skillKeys) {
      if (lines.priorities(key) === 0) continue;
      const entry = firstIn(lines.line(key), (e) => e.priority && due(e));
      if (entry && (!oldestPriority || entry.order < oldestPriority.order)) oldestPriority = entry;
    }
    if (oldestPriority) {
      const guardApplies = !window.priorityWindow && policy.priorityGuard > 0 && windowState.priorityStreak >= policy.priorityGuard;
      const normalWaiting = guardApplies && skillKeys.some((key) => firstIn(lines.line(key), (e) => !e.priority && due(e)) !== undefined);
      if (!normalWaiting) return tickets.get(oldestPriority.number);
      normalOnly = true;
    }
  }

  // 4. The window's services.
  const eligible = (entry: LineEntry): boolean => due(entry) && (!normalOnly || !entry.priority);
  if (window.skillMode === 'weighted') {
    let best: Ticket | undefined;
    let bestScore = -Infinity;
    window.skills.forEach((skill, index) => {
      const entry = firstIn(lines.line(skillKeys[index]!), eligible);
      if (!entry) return;
      const ticket = tickets.get(entry.number)!;
      const score = (now - ticket.issuedAt + 1) * skill.weight;
      if (score > bestScore) {
        best = ticket;
        bestScore = score;
      }
    });
    return best;
  }
  for (const key of skillKeys) {
    const entry = firstIn(lines.line(key), eligible);
    if (entry) return tickets.get(entry.number);
  }
  return undefined;
}

function firstIn(line: ReadonlyArray<LineEntry>, accept: (entry: LineEntry) => boolean): LineEntry | undefined {
  for (const entry of line) if (accept(entry)) return entry;
  return undefined;
}
