import { describe, expect, it } from 'vitest';
import type { HallEvent, HallView } from '../../src/device-contract/index.js';
import { hallRows, windowsNamedBy, windowTextAfter, windowTexts } from './display-texts.js';

const base = { at: 0, day: '2026-11-23' };
const WINDOWS = ['w1', 'w2', 'w3'];

/** One event of every type that can concern a window, plus some that cannot. */
const EVENTS: HallEvent[] = [
  { ...base, type: 'ticket.called', number: 'A001', windowId: 'w1', reason: 'next' },
  { ...base, type: 'ticket.recalled', number: 'A001', windowId: 'w1', recalls: 1 },
  { ...base, type: 'ticket.skipped', number: 'A001', windowId: 'w2' },
  { ...base, type: 'ticket.started', number: 'A001', windowId: 'w2' },
  { ...base, type: 'ticket.finished', number: 'A001', windowId: 'w3' },
  { ...base, type: 'ticket.voided', number: 'A001', reason: 'printed twice', windowId: 'w3' },
  { ...base, type: 'ticket.voided', number: 'A002', reason: 'printed twice' },
  { ...base, type: 'ticket.transferred', number: 'A001', fromServiceId: 's', toServiceId: 't', fromWindowId: 'w1', toWindowId: 'w2' },
  { ...base, type: 'ticket.transferred', number: 'A001', fromServiceId: 's', toServiceId: 't', toWindowId: 'w3' },
  { ...base, type: 'ticket.rated', number: 'A001', windowId: 'w1', rating: 5, timedOut: false },
  { ...base, type: 'window.opened', windowId: 'w1', staffId: 'zhang' },
  { ...base, type: 'window.closed', windowId: 'w2' },
  { ...base, type: 'window.paused', windowId: 'w3' },
  { ...base, type: 'window.resumed', windowId: 'w3' },
  { ...base, type: 'ticket.expired', number: 'A003' },
  { ...base, type: 'day.started' },
];

describe('window display texts', () => {
  it('names every window whose text an event changes (the driver looks at no others)', () => {
    for (const event of EVENTS) {
      const changed = WINDOWS.filter((windowId) => windowTextAfter(event, windowId, 1) !== undefined);
      for (const windowId of changed) expect(windowsNamedBy(event), `${event.type} changes ${windowId}`).toContain(windowId);
    }
  });

  it('frees the window of a ticket voided while called there', () => {
    const voided = EVENTS.find((e) => e.type === 'ticket.voided' && 'windowId' in e)!;
    expect(windowTextAfter(voided, 'w3', 3)).toBe(windowTexts.idle(3));
    expect(windowTextAfter(voided, 'w1', 1)).toBeUndefined();
  });
});

describe('hall display rows', () => {
  it('lists a recalled ticket once, where it goes now, and still fills the row', () => {
    // The hall's call history after A000, A001 and A002 were called and then A001 recalled.
    const history = [
      { number: 'A001', windowId: 'w1', windowNumber: 1, at: 4 },
      { number: 'A002', windowId: 'w2', windowNumber: 2, at: 3 },
      { number: 'A001', windowId: 'w1', windowNumber: 1, at: 2 },
      { number: 'A000', windowId: 'w3', windowNumber: 3, at: 1 },
    ];
    const hall = {
      model: { services: [] },
      recentCalls: (limit: number) => history.slice(0, limit),
      servedToday: () => 0,
      waitingCount: () => 0,
    } as unknown as HallView;
    expect(hallRows(hall, 3)[0]).toBe('\\C1叫号 A001→1号 A002→2号 A000→3号');
  });
});
