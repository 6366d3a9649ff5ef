import type { Channel } from './ticket.js';
import type { HallEvent, RatingValue } from './events.js';

/**
 * What may be asked of the queue. Each maps 1:1 to an MQTT request
 * (`bridge/request/<type>`) and to keypad keys; the payload fields are the same.
 */
export type QueueCommand =
  | {
      type: 'issue';
      serviceId: string;
      channel: Channel;
      priority?: boolean;
      items?: string[];
      appointment?: { slotStart: number; slotEnd: number; reference?: string };
    }
  | { type: 'call-next'; windowId: string }
  /** `override`: call it even though the window does not take its service. */
  | { type: 'call'; windowId: string; number: string; override?: boolean }
  | { type: 'recall'; windowId: string }
  | { type: 'skip'; windowId: string }
  | { type: 'requeue'; number: string }
  /** `override`: send it to `toWindowId` even though that window does not take the service. */
  | { type: 'transfer'; number: string; toServiceId?: string; toWindowId?: string; override?: boolean }
  | { type: 'start'; windowId: string }
  | { type: 'finish'; windowId: string }
  | { type: 'void'; number: string; reason: string }
  | { type: 'pause'; windowId: string; reason?: string }
  | { type: 'resume'; windowId: string }
  | { type: 'login'; windowId: string; staffId: string }
  | { type: 'logout'; windowId: string; staffId?: string }
  | { type: 'rate'; windowId: string; number?: string; rating?: RatingValue; timedOut?: boolean }
  /** Housekeeping from the hall's timer: day rollover and closing time. */
  | { type: 'tick' }
  /**
   * Not an MQTT request: the daemon's start-up, after an accepted journal loss. Records the loss
   * and raises the day's numbering above what the watermark says was issued.
   */
  | { type: 'record-journal-loss'; loss: Omit<Extract<HallEvent, { type: 'journal.loss' }>, 'type' | 'at' | 'day'> };

export type QueueCommandType = QueueCommand['type'];

/** A refusal the operator can act on: `code` for programs, `message` for people. */
export class QueueError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueueError';
  }
}
