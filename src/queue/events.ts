import type { Ticket } from './ticket.js';

/**
 * Every state change of the hall is one of these. They are journaled before anyone outside the
 * process sees them, and the queue state is rebuilt from them on restart (applyEvent), so each
 * carries everything needed to apply it: no decision is re-made during replay.
 *
 * `at` is epoch ms; `day` is the hall-local business day (YYYY-MM-DD) the event belongs to.
 */
interface Base {
  at: number;
  day: string;
}

export type RatingValue = 1 | 2 | 3 | 4 | 5;

/** 5 = 非常满意 (very satisfied) ... 1 = 非常不满意 (very dissatisfied). */
export const RATING_LABELS: Record<RatingValue, { zh: string; en: string }> = {
  5: { zh: '非常满意', en: 'very satisfied' },
  4: { zh: '满意', en: 'satisfied' },
  3: { zh: '基本满意', en: 'fairly satisfied' },
  2: { zh: '不满意', en: 'dissatisfied' },
  1: { zh: '非常不满意', en: 'very dissatisfied' },
};

export type HallEvent =
  | (Base & { type: 'day.started' })
  | (Base & { type: 'day.closed'; expired: number })
  | (Base & { type: 'ticket.issued'; ticket: Ticket })
  | (Base & { type: 'ticket.called'; number: string; windowId: string; staffId?: string; reason: 'next' | 'direct' })
  | (Base & { type: 'ticket.recalled'; number: string; windowId: string; recalls: number })
  | (Base & { type: 'ticket.skipped'; number: string; windowId: string })
  | (Base & { type: 'ticket.requeued'; number: string; order: number })
  | (Base & {
      type: 'ticket.transferred';
      number: string;
      fromServiceId: string;
      toServiceId: string;
      fromWindowId?: string;
      toWindowId?: string;
    })
  | (Base & { type: 'ticket.started'; number: string; windowId: string })
  | (Base & { type: 'ticket.finished'; number: string; windowId: string; staffId?: string })
  /** `windowId`: the window the ticket was called to, which it leaves free (absent in journals before it was added). */
  | (Base & { type: 'ticket.voided'; number: string; reason: string; windowId?: string })
  | (Base & { type: 'ticket.expired'; number: string })
  | (Base & {
      type: 'ticket.rated';
      number: string;
      windowId: string;
      staffId?: string;
      /** Absent when the customer did not answer before the pad's timeout. */
      rating?: RatingValue;
      timedOut: boolean;
    })
  | (Base & { type: 'window.opened'; windowId: string; staffId: string })
  | (Base & { type: 'window.closed'; windowId: string; staffId?: string })
  | (Base & { type: 'window.paused'; windowId: string; reason?: string })
  | (Base & { type: 'window.resumed'; windowId: string })
  /**
   * The journal was found behind its watermark at start (storage lost or rolled back events) and
   * an admin chose to continue. Seqs `lostSeq.from..to` and the tickets listed are gone from the
   * record; `numberFloors` (service id → highest serial issued that day, per the watermark)
   * raises the day's numbering so no lost number is issued again. Applied by the engine only
   * when `day` is its current day: numbers restart every day anyway.
   */
  | (Base & {
      type: 'journal.loss';
      lostSeq: { from: number; to: number };
      lostTickets: Array<{ serviceId: string; from: string; to: string }>;
      numberFloors: Record<string, number>;
      watermarkDay: string | null;
      detail: string;
    })
  /**
   * Events that belong to the hall but not to the queue (gate decisions, printer faults,
   * broadcasts). The queue state ignores them; statistics may count them.
   */
  | (Base & { type: `device.${string}`; deviceId: string; data: Record<string, unknown> });

export type HallEventType = HallEvent['type'];

/** A journaled event: `seq` is gap-free and increasing over the whole life of the journal. */
export type SequencedEvent = HallEvent & { seq: number };
