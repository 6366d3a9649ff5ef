import type { Hall } from './hall.js';

/**
 * The retained `display` document: what a screen in the public hall shows (the `/display`
 * page, a TV). Only what is already on the hall's LED display or said aloud: the latest calls,
 * today's 办件量 and tickets taken, and the operator's broadcast line — no staff, no ticket
 * items, no other figures. The role `display` may read this, `queue/<id>` and `bridge/state`.
 */

/** Calls on the document: one big, the rest as a list; a TV has room for about this many. */
export const DISPLAY_CALLS = 8;

export interface DisplayCall {
  number: string;
  serviceId: string | null;
  windowId: string;
  windowNumber: number;
  windowName: { zh: string; en: string };
  /** Called again at the same window (再次): the announcement says so. */
  recall: boolean;
  at: number;
}

export interface Broadcast {
  text: string;
  at: number;
  day: string;
}

export interface DisplayDocument {
  day: string | null;
  /** Newest first, one entry per ticket (its latest call). */
  calls: DisplayCall[];
  /** 办件量: tickets finished today. */
  servedToday: number;
  issuedToday: number;
  /** The operator's latest broadcast of the day; it stays on the TV until the next one. */
  broadcast: { text: string; at: number } | null;
}

export function displayDocument(hall: Hall, broadcast: Broadcast | undefined): DisplayDocument {
  const engine = hall.engine;
  const day = engine.currentDay() ?? null;
  // The engine keeps the latest 20 calls, recalls included: the first entry per ticket is its
  // latest call, and it is a recall when an older entry called it to the same window.
  const recent = engine.recentCalls(Number.MAX_SAFE_INTEGER);
  const calls: DisplayCall[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < recent.length && calls.length < DISPLAY_CALLS; i++) {
    const call = recent[i]!;
    if (seen.has(call.number)) continue;
    seen.add(call.number);
    const window = hall.model.windows.find((w) => w.id === call.windowId);
    calls.push({
      number: call.number,
      serviceId: engine.ticket(call.number)?.serviceId ?? null,
      windowId: call.windowId,
      windowNumber: call.windowNumber,
      windowName: window ? window.name : { zh: `${call.windowNumber}号窗口`, en: `Window ${call.windowNumber}` },
      recall: recent.slice(i + 1).some((older) => older.number === call.number && older.windowId === call.windowId),
      at: call.at,
    });
  }
  let issuedToday = 0;
  for (const service of hall.model.services) issuedToday += engine.issuedCount(service.id);
  return {
    day,
    calls,
    servedToday: engine.servedToday(),
    issuedToday,
    broadcast: broadcast && broadcast.day === day ? { text: broadcast.text, at: broadcast.at } : null,
  };
}
