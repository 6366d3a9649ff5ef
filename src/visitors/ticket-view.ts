import { ticketsAhead } from '../queue/ahead.js';
import type { Hall } from '../hall/hall.js';

/**
 * What the phone page shows of ONE ticket: its own state, how many are ahead of it, the wait
 * to expect and, once called, the window. Nothing about any other ticket — no numbers being
 * served, no other ticket's window — so a page cannot be used to watch someone else.
 */
export type VisitorState = 'waiting' | 'called' | 'serving' | 'done' | 'missed' | 'cancelled' | 'other-day' | 'unknown';

export interface TicketView {
  day: string;
  number: string;
  state: VisitorState;
  service: { zh: string; en: string } | null;
  /** Tickets that will be called before it (0 = next); null when not waiting. */
  ahead: number | null;
  estimatedWaitMinutes: number | null;
  window: { number: number; name: { zh: string; en: string } } | null;
  recalls: number;
}

/** The page stops listening once its ticket reaches one of these. */
export const FINAL_VIEW_STATES: ReadonlySet<VisitorState> = new Set(['done', 'cancelled', 'other-day', 'unknown']);

/**
 * Positions in a line, computed once per refresh and shared by every open page of that line:
 * with hundreds of phones open on one service, each refresh walks the line once, not once per phone.
 */
export class LinePositions {
  private readonly lines = new Map<string, Map<string, number>>();
  constructor(private readonly hall: Hall) {}

  ahead(number: string): number | null {
    const engine = this.hall.engine;
    const ticket = engine.ticket(number);
    if (!ticket || ticket.state !== 'waiting') return null;
    // Appointments are called at their slot, not by place in line: ticketsAhead knows how.
    if (ticket.appointment) return ticketsAhead(engine, number);
    const key = ticket.targetWindowId ? `window:${ticket.targetWindowId}` : `service:${ticket.serviceId}`;
    let positions = this.lines.get(key);
    if (!positions) {
      const line = ticket.targetWindowId ? engine.waitingForWindow(ticket.targetWindowId) : engine.waiting(ticket.serviceId);
      positions = new Map(line.map((t, i) => [t.number, i]));
      this.lines.set(key, positions);
    }
    return positions.get(number) ?? null;
  }
}

export function ticketView(hall: Hall, day: string, number: string, positions = new LinePositions(hall)): TicketView {
  const base = { day, number, service: null, ahead: null, estimatedWaitMinutes: null, window: null, recalls: 0 };
  if (day !== hall.engine.currentDay()) return { ...base, state: 'other-day' };
  const ticket = hall.engine.ticket(number);
  if (!ticket) return { ...base, state: 'unknown' };
  const service = hall.model.services.find((s) => s.id === ticket.serviceId);
  const windowDef = ticket.windowId ? hall.model.windows.find((w) => w.id === ticket.windowId) : undefined;
  const view: TicketView = { ...base, state: visitorState(ticket.state), service: service ? service.name : null, recalls: ticket.recalls };
  if (ticket.state === 'waiting') {
    const ahead = positions.ahead(number);
    view.ahead = ahead;
    view.estimatedWaitMinutes = ahead === null ? null : hall.estimateWait(ticket.serviceId, ahead);
  }
  if ((ticket.state === 'called' || ticket.state === 'serving') && windowDef) view.window = { number: windowDef.number, name: windowDef.name };
  return view;
}

function visitorState(state: string): VisitorState {
  switch (state) {
    case 'waiting':
    case 'called':
    case 'serving':
    case 'done':
      return state;
    case 'no-show':
      return 'missed';
    default:
      return 'cancelled';
  }
}
