import { ticketsAheadOfMany } from './ahead.js';
import type { QueueEngine } from './engine.js';
import type { HallEvent } from './events.js';

/**
 * "Your turn is near": which notices a ticket whose visitor left a contact is due, decided from
 * the queue alone — no I/O, no clock (the hall delivers them after the commit, src/notify).
 *
 * The rules (docs/mqtt-api.md, "Notifications"):
 * - near: when the tickets ahead fall to a threshold (default 5, then 1), ONE notice, once per
 *   threshold and ticket, for life: a transfer or a requeue that puts it further back does not
 *   make it pass a threshold twice. A fall past several thresholds at once (a ticket issued 3
 *   from the front, a transfer) is one notice, for the lowest threshold reached.
 * - called: the first call of the ticket, with the window. A later call (after a transfer, or
 *   a requeue of a no-show) is not sent: the visitor is in the hall by then.
 * - recalled: every recall ("called again", bounded by the hall's recall limit).
 * - a ticket finished, voided, expired or skipped (no-show) gets nothing more: its contact is
 *   dropped (`ended`).
 */
export interface NoticeProgress {
  /** Thresholds already notified (or passed without a notice). */
  near: readonly number[];
  called: boolean;
  /** Recall notices sent so far. */
  recalls: number;
}

export type DueNotice =
  | { kind: 'near'; number: string; threshold: number; ahead: number }
  | { kind: 'called'; number: string; windowId: string }
  | { kind: 'recalled'; number: string; windowId: string; nth: number };

export interface NoticePlan {
  notices: DueNotice[];
  /** New progress of the tickets that changed. */
  progress: Map<string, NoticeProgress>;
  /** Tickets whose notices are over: forget their contact. */
  ended: string[];
}

export const NO_PROGRESS: NoticeProgress = { near: [], called: false, recalls: 0 };

const ENDING = new Set<HallEvent['type']>(['ticket.finished', 'ticket.voided', 'ticket.expired', 'ticket.skipped']);

/** The waiting line a ticket stands in (a service's, or a window's for a ticket sent there by name). */
function lineOf(ticket: { serviceId: string; targetWindowId?: string }): string {
  return ticket.targetWindowId ? `window:${ticket.targetWindowId}` : `service:${ticket.serviceId}`;
}

/**
 * The lines in which tickets may now have fewer ahead, or 'all'. A call, a void or an expiry
 * shortens the line the ticket left; only its own tickets move up, so only they are looked at
 * (with 2000 waiting this keeps the planning per call to one line). A transfer, and a direct call
 * (which may take a ticket from another window's line), are rare: everything is looked at.
 */
function linesMoved(engine: QueueEngine, events: readonly HallEvent[]): Set<string> | 'all' {
  const lines = new Set<string>();
  for (const event of events) {
    if (event.type === 'ticket.transferred' || (event.type === 'ticket.called' && event.reason === 'direct')) return 'all';
    if (event.type !== 'ticket.called' && event.type !== 'ticket.voided' && event.type !== 'ticket.expired') continue;
    const ticket = engine.ticket(event.number);
    if (!ticket) return 'all';
    lines.add(`service:${ticket.serviceId}`);
    // A call clears the ticket's target window: the window that called it is the one it was sent to.
    if (event.type === 'ticket.called') lines.add(`window:${event.windowId}`);
    else if (ticket.targetWindowId) lines.add(`window:${ticket.targetWindowId}`);
  }
  return lines;
}

/**
 * The notices due after `events` were applied to `engine`, for the tickets in `tracked`.
 * `evaluate` names tickets to look at even without a moving event (a contact just attached).
 */
export function planNotices(
  engine: QueueEngine,
  tracked: ReadonlyMap<string, NoticeProgress>,
  events: readonly HallEvent[],
  thresholds: readonly number[],
  evaluate: Iterable<string> = [],
): NoticePlan {
  const plan: NoticePlan = { notices: [], progress: new Map(), ended: [] };
  const current = (number: string): NoticeProgress => plan.progress.get(number) ?? tracked.get(number) ?? NO_PROGRESS;
  const ended = new Set<string>();
  for (const event of events) {
    if (!('number' in event) || typeof event.number !== 'string' || !tracked.has(event.number) || ended.has(event.number)) continue;
    const number = event.number;
    const before = current(number);
    if (event.type === 'ticket.called' && !before.called) {
      plan.notices.push({ kind: 'called', number, windowId: event.windowId });
      // Once called, the thresholds are behind it for good.
      plan.progress.set(number, { ...before, called: true, near: union(before.near, thresholds) });
    } else if (event.type === 'ticket.recalled') {
      plan.notices.push({ kind: 'recalled', number, windowId: event.windowId, nth: before.recalls + 1 });
      plan.progress.set(number, { ...before, recalls: before.recalls + 1 });
    } else if (ENDING.has(event.type)) {
      ended.add(number);
    }
  }

  const candidates = new Set<string>(evaluate);
  const moved = events.length > 0 ? linesMoved(engine, events) : new Set<string>();
  if (moved === 'all' || moved.size > 0) {
    for (const number of tracked.keys()) {
      const ticket = engine.ticket(number);
      if (ticket?.state === 'waiting' && (moved === 'all' || moved.has(lineOf(ticket)) || ticket.appointment)) candidates.add(number);
    }
  }
  const waiting = [...candidates].filter((number) => tracked.has(number) && !ended.has(number) && pendingThresholds(current(number), thresholds).length > 0);
  const ahead = ticketsAheadOfMany(engine, waiting);
  for (const number of waiting) {
    const places = ahead.get(number);
    if (places === undefined) continue;
    const before = current(number);
    const reached = pendingThresholds(before, thresholds).filter((threshold) => places <= threshold);
    if (reached.length === 0) continue;
    plan.notices.push({ kind: 'near', number, threshold: Math.min(...reached), ahead: places });
    plan.progress.set(number, { ...before, near: union(before.near, reached) });
  }
  plan.ended = [...ended];
  return plan;
}

function pendingThresholds(progress: NoticeProgress, thresholds: readonly number[]): number[] {
  if (progress.called) return [];
  return thresholds.filter((threshold) => !progress.near.includes(threshold));
}

function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => y - x);
}
