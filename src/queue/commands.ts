import type { Channel } from './ticket.js';
import type { RatingValue } from './events.js';

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
  | { type: 'call'; windowId: string; number: string }
  | { type: 'recall'; windowId: string }
  | { type: 'skip'; windowId: string }
  | { type: 'requeue'; number: string }
  | { type: 'transfer'; number: string; toServiceId?: string; toWindowId?: string }
  | { type: 'start'; windowId: string }
  | { type: 'finish'; windowId: string }
  | { type: 'void'; number: string; reason: string }
  | { type: 'pause'; windowId: string; reason?: string }
  | { type: 'resume'; windowId: string }
  | { type: 'login'; windowId: string; staffId: string }
  | { type: 'logout'; windowId: string; staffId?: string }
  | { type: 'rate'; windowId: string; number?: string; rating?: RatingValue; timedOut?: boolean }
  /** Housekeeping from the hall's timer: day rollover and closing time. */
  | { type: 'tick' };

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
