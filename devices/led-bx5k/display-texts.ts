import type { HallView, HallEvent } from '../../src/device-contract/index.js';

/**
 * What each display should say, as pure functions of hall state and events. Colour codes: \C1 red
 * for a call (it must catch the eye), \C2 green for an open window at rest.
 */

export const windowTexts = {
  call: (ticket: string, windowNumber: number): string => `\\C1${ticket} 请到${windowNumber}号窗口`,
  idle: (windowNumber: number): string => `\\C2${windowNumber}号窗口 欢迎您`,
  paused: (): string => '\\C3暂停服务',
  closed: (): string => '\\C1窗口关闭',
};

export function windowNumberOf(hall: HallView, windowId: string): number | undefined {
  return hall.model.windows.find((w) => w.id === windowId)?.number;
}

/** The text for a window display from the window's current state (start-up and reconnect). */
export function windowTextFromState(hall: HallView, windowId: string): string {
  const number = windowNumberOf(hall, windowId) ?? 0;
  const state = hall.window(windowId);
  if (!state || state.status === 'closed') return windowTexts.closed();
  if (state.status === 'paused') return windowTexts.paused();
  if (state.current) {
    const ticket = hall.ticket(state.current);
    if (ticket && (ticket.state === 'called' || ticket.state === 'serving')) return windowTexts.call(state.current, number);
  }
  return windowTexts.idle(number);
}

/** The windows an event names: the only ones whose display text it can change (see windowTextAfter). */
export function windowsNamedBy(event: HallEvent): string[] {
  const named: string[] = [];
  if ('windowId' in event && typeof event.windowId === 'string') named.push(event.windowId);
  if ('fromWindowId' in event && typeof event.fromWindowId === 'string' && event.fromWindowId !== named[0]) named.push(event.fromWindowId);
  return named;
}

/** The new text for one window display after an event, or undefined when the event is not about it. */
export function windowTextAfter(event: HallEvent, windowId: string, windowNumber: number): string | undefined {
  switch (event.type) {
    case 'ticket.called':
    case 'ticket.recalled':
      return event.windowId === windowId ? windowTexts.call(event.number, windowNumber) : undefined;
    case 'ticket.finished':
    case 'ticket.skipped':
    case 'ticket.voided':
      return event.windowId === windowId ? windowTexts.idle(windowNumber) : undefined;
    case 'ticket.transferred':
      return event.fromWindowId === windowId ? windowTexts.idle(windowNumber) : undefined;
    case 'window.paused':
      return event.windowId === windowId ? windowTexts.paused() : undefined;
    case 'window.closed':
      return event.windowId === windowId ? windowTexts.closed() : undefined;
    case 'window.opened':
    case 'window.resumed':
      return event.windowId === windowId ? windowTexts.idle(windowNumber) : undefined;
    default:
      return undefined;
  }
}

/**
 * The latest calls, one per ticket: a recall is a call again, so the history holds the ticket
 * twice, but a person reading the display should see where each number goes now, once. A few
 * more entries than shown are read so recalls do not shorten the row.
 */
function latestCallPerTicket(hall: HallView, limit: number): ReturnType<HallView['recentCalls']> {
  const seen = new Set<string>();
  const calls: ReturnType<HallView['recentCalls']> = [];
  for (const call of hall.recentCalls(limit * 4)) {
    if (seen.has(call.number)) continue;
    seen.add(call.number);
    calls.push(call);
    if (calls.length === limit) break;
  }
  return calls;
}

/**
 * The hall display's rows: latest calls, waiting per service, today's transactions (办件量),
 * and an operator's broadcast notice while one is showing.
 */
export function hallRows(hall: HallView, recentCalls = 3, notice?: string): string[] {
  const calls = latestCallPerTicket(hall, recentCalls).map((c) => `${c.number}→${c.windowNumber}号`);
  const waiting = hall.model.services.map((s) => `${s.name.zh}${hall.waitingCount(s.id)}人`);
  return [
    `\\C1叫号 ${calls.length > 0 ? calls.join(' ') : '--'}`,
    `\\C2等候 ${waiting.join(' ')}`,
    `\\C3今日办件 ${hall.servedToday()}`,
    ...(notice ? [`\\C1通知 ${notice}`] : []),
  ];
}
