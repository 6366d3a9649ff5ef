import { describe, expect, it } from 'vitest';
import { QueueEngine } from '../../src/queue/engine.js';
import { QueueError, type QueueCommand } from '../../src/queue/commands.js';
import type { HallEvent } from '../../src/queue/events.js';
import { MINUTE, MONDAY_9AM, smallModel } from '../support/model.js';

function hall(policy = {}) {
  const engine = new QueueEngine(smallModel({ policy }));
  let now = MONDAY_9AM;
  const log: HallEvent[] = [];
  const run = (command: QueueCommand, at = now) => {
    now = at;
    return engine.run(command, at, (events) => log.push(...events));
  };
  const advance = (ms: number) => (now += ms);
  const issue = (serviceId: string, extra: Partial<Extract<QueueCommand, { type: 'issue' }>> = {}) => {
    const events = run({ type: 'issue', serviceId, channel: 'kiosk', ...extra });
    const issued = events.find((e) => e.type === 'ticket.issued');
    if (issued?.type !== 'ticket.issued') throw new Error('not issued');
    return issued.ticket.number;
  };
  const callNext = (windowId: string) => {
    const called = run({ type: 'call-next', windowId }).find((e) => e.type === 'ticket.called');
    return called?.type === 'ticket.called' ? called.number : undefined;
  };
  const open = (...windowIds: string[]) => windowIds.forEach((windowId, i) => run({ type: 'login', windowId, staffId: `s${i + 1}-${windowId}` }));
  const refusal = (command: QueueCommand): string => {
    try {
      run(command);
    } catch (err) {
      if (err instanceof QueueError) return err.code;
      throw err;
    }
    throw new Error('expected a refusal');
  };
  return { engine, run, advance, issue, callNext, open, refusal, log, now: () => now };
}

describe('queue engine', () => {
  it('starts the day and numbers tickets per service with the configured width', () => {
    const h = hall();
    expect(h.issue('ss')).toBe('A001');
    expect(h.issue('ss')).toBe('A002');
    expect(h.issue('rt')).toBe('C01');
    expect(h.log[0]).toMatchObject({ type: 'day.started', day: '2026-11-23' });
  });

  it('calls by preference, oldest first, and never gives one ticket to two windows', () => {
    const h = hall();
    h.open('w1', 'w2');
    h.issue('mi');
    h.advance(MINUTE);
    h.issue('ss');
    h.issue('ss');
    expect(h.callNext('w1')).toBe('A001');
    expect(h.callNext('w2')).toBe('B001');
    expect(h.callNext('w1')).toBe('A002');
    expect(h.engine.ticket('A001')?.state).toBe('done');
    expect(h.callNext('w2')).toBeUndefined(); // finishes B001, nobody left
    expect(h.engine.ticket('B001')?.state).toBe('done');
    expect(h.refusal({ type: 'call-next', windowId: 'w2' })).toBe('queue-empty');
  });

  it('refuses calls from a closed or paused window with a readable reason', () => {
    const h = hall();
    h.issue('ss');
    expect(h.refusal({ type: 'call-next', windowId: 'w1' })).toBe('window-closed');
    h.open('w1');
    h.run({ type: 'pause', windowId: 'w1', reason: 'break' });
    expect(h.refusal({ type: 'call-next', windowId: 'w1' })).toBe('window-paused');
    h.run({ type: 'resume', windowId: 'w1' });
    expect(h.callNext('w1')).toBe('A001');
    expect(h.refusal({ type: 'call-next', windowId: 'nope' })).toBe('unknown-window');
  });

  it('serves priority tickets first, with a guard so normal tickets are not starved', () => {
    const h = hall({ priorityGuard: 2 });
    h.open('w1');
    h.issue('ss'); // A001 normal
    for (let i = 0; i < 4; i++) h.issue('ss', { priority: true }); // A002..A005
    expect(h.callNext('w1')).toBe('A002');
    expect(h.callNext('w1')).toBe('A003');
    expect(h.callNext('w1')).toBe('A001'); // guard: two priority calls in a row
    expect(h.callNext('w1')).toBe('A004');
  });

  it('lets only priority windows jump the line when configured so', () => {
    const h = hall({ priorityServedBy: 'priority-windows' });
    h.open('w1', 'w4');
    h.issue('ss');
    h.issue('ss', { priority: true });
    h.issue('ss', { priority: true });
    expect(h.callNext('w1')).toBe('A001');
    expect(h.callNext('w4')).toBe('A002');
  });

  it('calls appointments at their slot, not before', () => {
    const h = hall();
    h.open('w1');
    const slotStart = MONDAY_9AM + 30 * MINUTE;
    h.issue('ss', { channel: 'appointment', appointment: { slotStart, slotEnd: slotStart + 30 * MINUTE } }); // A001
    h.issue('ss'); // A002
    expect(h.callNext('w1')).toBe('A002');
    h.advance(25 * MINUTE); // 10 minutes early window opens at slot - 10 min
    h.issue('ss'); // A003
    expect(h.callNext('w1')).toBe('A001');
    expect(h.callNext('w1')).toBe('A003');
  });

  it('keeps a transferred ticket in its original place (one wait)', () => {
    const h = hall();
    h.open('w1', 'w2');
    h.issue('ss'); // A001 order 1
    h.issue('mi'); // B001 order 2
    h.issue('mi'); // B002 order 3
    expect(h.callNext('w1')).toBe('A001');
    h.run({ type: 'transfer', number: 'A001', toServiceId: 'mi' });
    expect(h.engine.ticket('A001')).toMatchObject({ state: 'waiting', serviceId: 'mi', order: 1 });
    expect(h.engine.windowState('w1')?.current).toBeUndefined();
    expect(h.callNext('w2')).toBe('A001');
  });

  it('transfers to a named window, which calls it before its own lines', () => {
    const h = hall();
    h.open('w1', 'w3');
    h.issue('rt'); // C01
    h.issue('ss'); // A001
    h.callNext('w1'); // A001
    // w3 takes only retirement: sending a social-security ticket there needs an explicit override.
    expect(() => h.run({ type: 'transfer', number: 'A001', toWindowId: 'w3' })).toThrow(expect.objectContaining({ code: 'skill' }));
    h.run({ type: 'transfer', number: 'A001', toWindowId: 'w3', override: true });
    expect(h.engine.waitingForWindow('w3').map((t) => t.number)).toEqual(['A001']);
    // What w3's staff have ahead: its own service's line and the ticket sent to it by name.
    expect(h.engine.waitingCountForWindow('w3')).toBe(2);
    expect(h.engine.waitingCount('ss')).toBe(0);
    expect(h.engine.waitingCount('rt')).toBe(1);
    expect(h.callNext('w3')).toBe('A001');
    expect(h.callNext('w3')).toBe('C01');
  });

  it('voids a called ticket, frees its window and names the window in the event', () => {
    const h = hall();
    h.open('w1');
    h.issue('ss');
    h.issue('ss');
    expect(h.callNext('w1')).toBe('A001');
    const events = h.run({ type: 'void', number: 'A001', reason: 'duplicate print' });
    expect(events).toEqual([expect.objectContaining({ type: 'ticket.voided', number: 'A001', windowId: 'w1' })]);
    expect(h.engine.windowState('w1')?.current).toBeUndefined();
    const waiting = h.run({ type: 'void', number: 'A002', reason: 'left' });
    expect(waiting[0]).not.toHaveProperty('windowId'); // a waiting ticket frees no window
  });

  it('recalls up to the limit, skips no-shows and puts them back in line', () => {
    const h = hall({ recallLimit: 1 });
    h.open('w1');
    h.issue('ss');
    h.issue('ss');
    h.callNext('w1');
    h.run({ type: 'recall', windowId: 'w1' });
    expect(h.refusal({ type: 'recall', windowId: 'w1' })).toBe('recall-limit');
    h.run({ type: 'skip', windowId: 'w1' });
    expect(h.engine.ticket('A001')?.state).toBe('no-show');
    h.run({ type: 'requeue', number: 'A001' });
    expect(h.engine.waiting('ss').map((t) => t.number)).toEqual(['A002', 'A001']);
    expect(h.refusal({ type: 'requeue', number: 'A002' })).toBe('bad-state');
  });

  it('runs the start/finish/rate flow and refuses double, wrong and late ratings', () => {
    const h = hall();
    h.open('w1');
    h.issue('ss');
    h.issue('ss');
    h.callNext('w1');
    h.run({ type: 'start', windowId: 'w1' });
    expect(h.refusal({ type: 'rate', windowId: 'w1', rating: 5 })).toBe('no-ticket');
    h.run({ type: 'finish', windowId: 'w1' });
    expect(h.refusal({ type: 'rate', windowId: 'w1', number: 'A002', rating: 5 })).toBe('wrong-ticket');
    h.run({ type: 'rate', windowId: 'w1', number: 'A001', rating: 4 });
    expect(h.engine.ticket('A001')?.rating).toBe(4);
    expect(h.refusal({ type: 'rate', windowId: 'w1', rating: 5 })).toBe('no-ticket');
    h.callNext('w1');
    h.run({ type: 'finish', windowId: 'w1' });
    h.advance(6 * MINUTE);
    expect(h.refusal({ type: 'rate', windowId: 'w1', rating: 1 })).toBe('late');
  });

  it('enforces the daily cap and closing time, and expires what is left at close', () => {
    const h = hall();
    for (let i = 0; i < 5; i++) h.issue('rt');
    expect(h.refusal({ type: 'issue', serviceId: 'rt', channel: 'kiosk' })).toBe('daily-cap');
    h.issue('ss');
    const close = Date.UTC(2026, 10, 23, 9, 31); // 17:31 local
    const events = h.run({ type: 'tick' }, close);
    expect(events.filter((e) => e.type === 'ticket.expired')).toHaveLength(6);
    expect(events.at(-1)).toMatchObject({ type: 'day.closed', expired: 6 });
    expect(h.refusal({ type: 'issue', serviceId: 'ss', channel: 'kiosk' })).toBe('hall-closed');
  });

  it('restarts numbering on the next business day and closes yesterday out', () => {
    const h = hall();
    h.open('w1');
    h.issue('ss');
    h.callNext('w1');
    const nextMorning = MONDAY_9AM + 24 * 60 * MINUTE;
    const events = h.run({ type: 'issue', serviceId: 'ss', channel: 'kiosk' }, nextMorning);
    expect(events.map((e) => e.type)).toEqual(['ticket.expired', 'window.closed', 'day.started', 'ticket.issued']);
    expect(events[0]).toMatchObject({ day: '2026-11-23' });
    expect(events[3]).toMatchObject({ day: '2026-11-24', ticket: { number: 'A001' } });
  });

  it('is rebuilt exactly from its own events (replay)', () => {
    const h = hall();
    h.open('w1', 'w2', 'w4');
    for (let i = 0; i < 6; i++) h.issue(i % 2 ? 'ss' : 'mi', { priority: i === 3 });
    h.callNext('w1');
    h.callNext('w2');
    h.run({ type: 'skip', windowId: 'w2' });
    h.callNext('w4');
    h.run({ type: 'transfer', number: h.engine.windowState('w4')!.current!, toServiceId: 'rt' });
    const replayed = new QueueEngine(smallModel());
    for (const event of h.log) replayed.apply(event);
    expect([...replayed.allTickets()]).toEqual([...h.engine.allTickets()]);
    expect([...replayed.windowStates()]).toEqual([...h.engine.windowStates()]);
    expect(replayed.issuedCount('ss')).toBe(h.engine.issuedCount('ss'));
  });

  it('leaves state untouched when the commit (journal) fails', () => {
    const engine = new QueueEngine(smallModel());
    engine.run({ type: 'tick' }, MONDAY_9AM);
    expect(() =>
      engine.run({ type: 'issue', serviceId: 'ss', channel: 'kiosk' }, MONDAY_9AM, () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(engine.issuedCount('ss')).toBe(0);
    expect(engine.run({ type: 'issue', serviceId: 'ss', channel: 'kiosk' }, MONDAY_9AM)[0]).toMatchObject({ ticket: { number: 'A001' } });
  });

  it('refuses logout with a ticket at the window, and moves a staff member between windows', () => {
    const h = hall();
    h.run({ type: 'login', windowId: 'w1', staffId: 'zhang' });
    h.issue('ss');
    h.callNext('w1');
    expect(h.refusal({ type: 'logout', windowId: 'w1' })).toBe('busy');
    expect(h.refusal({ type: 'login', windowId: 'w2', staffId: 'zhang' })).toBe('busy');
    h.run({ type: 'finish', windowId: 'w1' });
    const events = h.run({ type: 'login', windowId: 'w2', staffId: 'zhang' });
    expect(events.map((e) => e.type)).toEqual(['window.closed', 'window.opened']);
  });
});
