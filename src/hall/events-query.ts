import { z } from 'zod';
import { RequestError } from '../bus/bridge.js';
import type { SequencedEvent } from '../queue/events.js';
import { formatZodIssues } from './request-schemas.js';

/** The most events one `events` answer carries; a consumer pages with `next` for more. */
export const MAX_EVENTS_PAGE = 1000;
const DEFAULT_EVENTS_PAGE = 200;

/** What the query needs of the journal: reads by seq, bounded. */
export interface EventHistory {
  readSince(seq: number, limit: number): SequencedEvent[];
  lastSeq(): number;
}

export interface EventsPage {
  events: SequencedEvent[];
  /** Pass as `since` to get the following page; null once the answer reached the journal's end. */
  next: number | null;
  /** The journal's last seq when this page was read, so a consumer knows how far behind it is. */
  lastSeq: number;
}

export const eventsRequest = z.strictObject({
  since: z.number().int().min(0),
  limit: z.number().int().min(1).max(MAX_EVENTS_PAGE).optional(),
});

/**
 * `bridge/request/events {since, limit?}`: the journal's events after `since`, oldest first, of
 * any day the journal still holds. It is how any consumer fills a gap in the `event` stream
 * (the stream cannot carry the events written before a subscriber connected, such as the day's
 * first, `day.started`, written before the broker listens).
 */
export function eventsPage(history: EventHistory, payload: Record<string, unknown>): EventsPage {
  const parsed = eventsRequest.safeParse(payload);
  if (!parsed.success) throw new RequestError('bad-request', formatZodIssues(parsed.error.issues));
  const { since, limit = DEFAULT_EVENTS_PAGE } = parsed.data;
  const lastSeq = history.lastSeq();
  const events = history.readSince(since, limit);
  const lastReturned = events.length > 0 ? events[events.length - 1]!.seq : since;
  return { events, next: lastReturned < lastSeq ? lastReturned : null, lastSeq };
}
