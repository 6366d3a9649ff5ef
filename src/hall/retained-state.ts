import type { SequencedEvent } from '../queue/events.js';
import type { Hall } from './hall.js';

/**
 * The retained MQTT state documents: what a dashboard or the central server reads on connect
 * to know the hall without replaying the event stream.
 */

export function windowDocument(hall: Hall, windowId: string): Record<string, unknown> | undefined {
  const def = hall.model.windows.find((w) => w.id === windowId);
  const state = hall.engine.windowState(windowId);
  if (!def || !state) return undefined;
  const ticket = state.current ? hall.engine.ticket(state.current) : undefined;
  return {
    id: def.id,
    number: def.number,
    name: def.name,
    status: state.status,
    staffId: state.staffId ?? null,
    pausedReason: state.pausedReason ?? null,
    priorityWindow: def.priorityWindow,
    skills: def.skills.map((skill) => skill.serviceId),
    ticket: ticket
      ? {
          number: ticket.number,
          serviceId: ticket.serviceId,
          state: ticket.state,
          calledAt: ticket.calledAt ?? null,
          startedAt: ticket.startedAt ?? null,
          recalls: ticket.recalls,
          priority: ticket.priority,
          items: ticket.items,
        }
      : null,
    lastFinished: state.lastFinished ?? null,
  };
}

export function queueDocument(hall: Hall, serviceId: string): Record<string, unknown> | undefined {
  const service = hall.model.services.find((s) => s.id === serviceId);
  if (!service) return undefined;
  const line = hall.engine.waitingSummary(serviceId, 5);
  const now = hall.now();
  const oldest = line.oldestIssuedAt;
  return {
    serviceId,
    prefix: service.prefix,
    name: service.name,
    waiting: line.count,
    priorityWaiting: line.priority,
    next: line.next,
    longestWaitSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
    issuedToday: hall.engine.issuedCount(serviceId),
    estimatedWaitMinutes: hall.estimateWait(serviceId),
    activeWindows: hall.engine.activeWindowsFor(serviceId),
  };
}

/** Which retained documents an event changes. */
export function affectedBy(hall: Hall, event: SequencedEvent): { windows: Set<string>; services: Set<string>; all: boolean } {
  const windows = new Set<string>();
  const services = new Set<string>();
  if (event.type === 'day.started' || event.type === 'day.closed') return { windows, services, all: true };
  if ('windowId' in event && event.windowId) windows.add(event.windowId);
  if (event.type === 'ticket.issued') services.add(event.ticket.serviceId);
  if (event.type === 'ticket.transferred') {
    services.add(event.fromServiceId).add(event.toServiceId);
    if (event.fromWindowId) windows.add(event.fromWindowId);
    if (event.toWindowId) windows.add(event.toWindowId);
  }
  if ('number' in event) {
    const ticket = hall.engine.ticket(event.number);
    if (ticket) {
      services.add(ticket.serviceId);
      if (ticket.windowId) windows.add(ticket.windowId);
    }
  }
  if (event.type === 'window.opened' || event.type === 'window.closed' || event.type === 'window.paused' || event.type === 'window.resumed') {
    // Staffing changes the wait estimate of every service the window takes.
    for (const skill of hall.model.windows.find((w) => w.id === event.windowId)?.skills ?? []) services.add(skill.serviceId);
  }
  return { windows, services, all: false };
}
