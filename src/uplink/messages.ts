import { z } from 'zod';
import type { SequencedEvent } from '../queue/events.js';

/**
 * What the uplink publishes on the central broker, under its topic prefix (docs/central.md):
 *   uplink/events  {hallId, first, last, count, replay?, events: [...]}  QoS 1, journal order
 *   uplink/state   {state: online|offline, hallId, at}                   retained, last will
 * and what it answers there:
 *   uplink/replay  {since, until?}  → the events after `since` (through `until`) sent again
 */
export const FORMAT_VERSION = 1;

export interface EventsMessage {
  format: typeof FORMAT_VERSION;
  hallId: string;
  first: number;
  last: number;
  count: number;
  /** Present (true) when the events were sent before and are resent on a replay request. */
  replay?: true;
  events: SequencedEvent[];
}

export function encodeEvents(hallId: string, events: readonly SequencedEvent[], replay: boolean): string {
  const message: EventsMessage = {
    format: FORMAT_VERSION,
    hallId,
    first: events[0]!.seq,
    last: events[events.length - 1]!.seq,
    count: events.length,
    ...(replay ? { replay: true as const } : {}),
    events: events as SequencedEvent[],
  };
  return JSON.stringify(message);
}

export function encodeState(hallId: string, state: 'online' | 'offline', at: number): string {
  return JSON.stringify({ state, hallId, at });
}

const replayRequest = z.object({
  since: z.number().int().min(0),
  until: z.number().int().min(1).optional(),
});

export type ReplayRequest = z.output<typeof replayRequest>;

/** A replay request from the central side, or the reason it is refused (logged and counted). */
export function parseReplayRequest(payload: Buffer): { ok: true; request: ReplayRequest } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = replayRequest.safeParse(json);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`).join('; ') };
  if (parsed.data.until !== undefined && parsed.data.until <= parsed.data.since) return { ok: false, problem: 'until must be after since' };
  return { ok: true, request: parsed.data };
}
