export type Channel = 'kiosk' | 'mobile' | 'operator' | 'appointment';

export type TicketState =
  | 'waiting' // in line
  | 'called' // called to a window, customer not yet at the counter
  | 'serving' // at the counter
  | 'done'
  | 'no-show' // skipped; may be put back in line the same day
  | 'voided'
  | 'expired'; // still open when the hall closed or the day rolled over

export const FINAL_STATES: ReadonlySet<TicketState> = new Set(['done', 'voided', 'expired']);

export interface Appointment {
  /** Slot start and end, epoch ms. */
  slotStart: number;
  slotEnd: number;
  /** Opaque reference (a hash, never a raw ID number). */
  reference?: string;
}

export interface Ticket {
  /** Unique within the day: the printed number, e.g. "A023". */
  number: string;
  day: string;
  serviceId: string;
  /** The service the ticket was issued for (transfers change serviceId, not this). */
  issuedServiceId: string;
  channel: Channel;
  priority: boolean;
  /** Several related matters on one ticket (取一次号、办一批事). */
  items: string[];
  appointment?: Appointment;
  issuedAt: number;
  /**
   * The ticket's place in line across the hall: smaller is earlier. Kept across transfers
   * (一次等待), so a transferred ticket does not go to the back.
   */
  order: number;
  state: TicketState;
  /** Only this window may call it (transfer to a named window). */
  targetWindowId?: string;
  windowId?: string;
  staffId?: string;
  calledAt?: number;
  firstCalledAt?: number;
  startedAt?: number;
  finishedAt?: number;
  recalls: number;
  transfers: number;
  rating?: number;
  /** Set once the evaluation is over (rated, or the pad's prompt timed out): one rating per ticket. */
  ratedAt?: number;
}

export type WindowStatus = 'closed' | 'open' | 'paused';

export interface WindowState {
  id: string;
  status: WindowStatus;
  staffId?: string;
  /** The ticket called or being served here. */
  current?: string;
  pausedReason?: string;
  /** Priority calls in a row, for the starvation guard. */
  priorityStreak: number;
  /** The last ticket finished here, awaiting its rating (evaluation pad). */
  lastFinished?: string;
}
