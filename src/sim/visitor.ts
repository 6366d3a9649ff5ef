import type { RatingValue } from '../queue/events.js';
import type { Channel } from '../queue/ticket.js';

/**
 * One visitor of a simulated day, with everything chance decides about them drawn up front:
 * when they come, what for, how long their matters take at the counter, whether they answer a
 * call, how they rate. Because it is all drawn before the day runs, every variant of the hall
 * meets exactly the same visitors (common random numbers): a difference between two variants is
 * the policy's, not the dice's.
 */
export interface SimVisitor {
  /** Epoch ms the ticket is taken. */
  arriveAt: number;
  serviceId: string;
  priority: boolean;
  channel: Channel;
  /** Matters on the ticket (取一次号、办一批事); at least 1. */
  items: number;
  appointment?: { slotStart: number; slotEnd: number };
  /** From the call to the customer at the counter (ticket.started), ms. */
  walkMs: number;
  /** At the counter, start to finish, ms. */
  handlingMs: number;
  /**
   * Calls the customer does not answer before answering one: 0 answers the first call; more than
   * the hall's recall limit means skipped as a no-show.
   */
  missedCalls: number;
  /** A skipped customer who comes back asks to be put back in line this long after the skip. */
  returnsAfterMs?: number;
  /** The evaluation pad: a rating, 'timeout' (no answer), or absent (no pad prompt recorded). */
  rating?: RatingValue | 'timeout';
  /** Voided at this time if still not final (a recorded day's voids). */
  voidAt?: number;
}

/** How visitors behave at a call and at the pad, when not taken from a recorded day. */
export interface Behaviour {
  /** Share of visitors who do not answer their first call. */
  noShowShare: number;
  /** Chance that a visitor who missed a call answers the next recall. */
  recallAnswerShare: number;
  /** Share of skipped visitors who come back and are put back in line. */
  returnShare: number;
  /** They come back between these many minutes after the skip. */
  returnAfterMinutes: [number, number];
  /** Share of finished tickets whose customer answers the pad (the rest time out). */
  ratedShare: number;
  /** Chance of each rating 1..5 among those who rate. */
  ratingSplit: [number, number, number, number, number];
  /** Walk from the hall to the counter, seconds, uniform. */
  walkSeconds: [number, number];
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  noShowShare: 0.04,
  recallAnswerShare: 0.5,
  returnShare: 0.3,
  returnAfterMinutes: [10, 40],
  ratedShare: 0.9,
  ratingSplit: [0.01, 0.02, 0.06, 0.25, 0.66],
  walkSeconds: [15, 60],
};

/** Seconds between a call and its recall when the customer does not come. */
export const RECALL_AFTER_MS = 60_000;
