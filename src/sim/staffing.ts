import type { HallEvent } from '../queue/events.js';
import type { QueueModel } from '../queue/model.js';
import { localToEpoch } from './local-time.js';

/** A stretch of time a window is staffed and taking tickets, epoch ms [from, to). */
export interface Shift {
  from: number;
  to: number;
}

/** Shifts per window id, in time order. */
export type Staffing = Map<string, Shift[]>;

/**
 * Staff as the config plans them: each window staffed over its schedule (or the hall's opening
 * hours), clipped to the opening hours; the gaps (lunch) are pauses.
 */
export function scheduledStaffing(model: QueueModel, date: string): Staffing {
  const { open, close, timeZone } = model.clock;
  const staffing: Staffing = new Map();
  for (const w of model.windows) {
    const ranges = w.schedule.length > 0 ? w.schedule : [{ from: open, to: close }];
    const shifts: Shift[] = [];
    for (const r of ranges) {
      const from = Math.max(r.from, open);
      const to = Math.min(r.to, close);
      if (to > from) shifts.push({ from: localToEpoch(date, from, timeZone), to: localToEpoch(date, to, timeZone) });
    }
    staffing.set(w.id, shifts.sort((a, b) => a.from - b.from));
  }
  return staffing;
}

/**
 * Staff as a recorded day had them: a window is on shift from its `window.opened` or
 * `window.resumed` to its `window.paused` or `window.closed` (or the day's last event).
 */
export function recordedStaffing(model: QueueModel, events: ReadonlyArray<HallEvent>): Staffing {
  const staffing: Staffing = new Map(model.windows.map((w) => [w.id, [] as Shift[]]));
  const since = new Map<string, number>();
  let last = 0;
  for (const e of events) {
    last = Math.max(last, e.at);
    if (e.type === 'window.opened' || e.type === 'window.resumed') {
      if (!since.has(e.windowId)) since.set(e.windowId, e.at);
    } else if (e.type === 'window.paused' || e.type === 'window.closed') {
      const from = since.get(e.windowId);
      if (from !== undefined && e.at > from) staffing.get(e.windowId)?.push({ from, to: e.at });
      since.delete(e.windowId);
    }
  }
  for (const [windowId, from] of since) if (last > from) staffing.get(windowId)?.push({ from, to: last + 1 });
  return staffing;
}
