import fc from 'fast-check';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ticketsAhead, ticketsAheadOfMany } from '../../src/queue/ahead.js';
import { QueueEngine } from '../../src/queue/engine.js';
import type { QueueCommand } from '../../src/queue/commands.js';
import type { HallEvent } from '../../src/queue/events.js';
import { NO_PROGRESS, planNotices, type DueNotice, type NoticeProgress } from '../../src/queue/notice-plan.js';
import { contactSchema, maskContact, scrubContacts } from '../../src/device-contract/contact.js';
import { createLogger } from '../../src/platform/logger.js';
import { MONDAY_9AM, smallModel } from '../support/model.js';

/** The queue core alone, with the notifier's bookkeeping done by the test: what is due when. */
function hall(thresholds = [5, 1]) {
  const engine = new QueueEngine(smallModel());
  const tracked = new Map<string, NoticeProgress>();
  const sent: DueNotice[] = [];
  const absorb = (plan: ReturnType<typeof planNotices>): void => {
    for (const [number, progress] of plan.progress) tracked.set(number, progress);
    for (const number of plan.ended) tracked.delete(number);
    sent.push(...plan.notices);
  };
  const run = (command: QueueCommand): HallEvent[] => {
    const events = engine.run(command, MONDAY_9AM);
    const plan = planNotices(engine, tracked, events, thresholds);
    // The planner looks only at the lines the events moved: it must find what looking at every
    // tracked ticket finds.
    const everything = planNotices(engine, tracked, events, thresholds, [...tracked.keys()]);
    expect(plan.notices).toEqual(everything.notices);
    absorb(plan);
    return events;
  };
  const issue = (serviceId = 'ss', contact = false): string => {
    const event = run({ type: 'issue', serviceId, channel: 'mobile' }).find((e) => e.type === 'ticket.issued');
    if (event?.type !== 'ticket.issued') throw new Error('not issued');
    if (contact) {
      tracked.set(event.ticket.number, NO_PROGRESS);
      absorb(planNotices(engine, tracked, [], thresholds, [event.ticket.number]));
    }
    return event.ticket.number;
  };
  const of = (number: string) => sent.filter((n) => n.number === number).map((n) => (n.kind === 'near' ? `near-${n.threshold}@${n.ahead}` : n.kind === 'called' ? `called@${n.windowId}` : `recalled-${n.nth}`));
  return { engine, run, issue, of, tracked };
}

describe('planNotices (the queue core decides; no I/O, no clock)', () => {
  it('5 ahead, 1 ahead, called — each once; recall is "called again"; finished ends it', () => {
    const h = hall();
    for (let i = 0; i < 7; i++) h.issue('ss');
    const mine = h.issue('ss', true);
    h.run({ type: 'login', windowId: 'w1', staffId: 's1' });
    expect(h.of(mine)).toEqual([]);
    for (let i = 0; i < 2; i++) h.run({ type: 'call-next', windowId: 'w1' });
    expect(h.of(mine)).toEqual(['near-5@5']);
    for (let i = 0; i < 4; i++) h.run({ type: 'call-next', windowId: 'w1' });
    expect(h.of(mine)).toEqual(['near-5@5', 'near-1@1']);
    h.run({ type: 'call-next', windowId: 'w1' });
    h.run({ type: 'call-next', windowId: 'w1' });
    h.run({ type: 'recall', windowId: 'w1' });
    expect(h.of(mine)).toEqual(['near-5@5', 'near-1@1', 'called@w1', 'recalled-1']);
    h.run({ type: 'finish', windowId: 'w1' });
    expect(h.tracked.has(mine)).toBe(false);
  });

  it('a fall past both thresholds at once is one notice, for the lowest threshold reached', () => {
    const h = hall();
    h.issue('ss');
    const mine = h.issue('ss', true);
    expect(h.of(mine)).toEqual(['near-1@1']);
    expect(h.tracked.get(mine)?.near).toEqual([5, 1]);
  });

  it('a ticket without a contact is never planned for', () => {
    const h = hall();
    h.run({ type: 'login', windowId: 'w1', staffId: 's1' });
    const other = h.issue('ss');
    h.run({ type: 'call-next', windowId: 'w1' });
    expect(h.of(other)).toEqual([]);
  });

  it('whatever happens to a ticket, no threshold and no "called" is planned twice, and looking at the moved lines finds what looking at all finds (property)', () => {
    const command = fc.oneof(
      fc.record({ type: fc.constant('issue' as const), serviceId: fc.constantFrom('ss', 'mi'), contact: fc.boolean() }),
      fc.record({ type: fc.constant('call-next' as const), windowId: fc.constantFrom('w1', 'w2') }),
      fc.record({ type: fc.constantFrom('recall' as const, 'skip' as const, 'finish' as const), windowId: fc.constantFrom('w1', 'w2') }),
      fc.record({ type: fc.constant('transfer' as const), pick: fc.nat(30), toServiceId: fc.constantFrom('ss', 'mi'), toWindowId: fc.constantFrom(undefined, 'w1', 'w2') }),
      fc.record({ type: fc.constantFrom('requeue' as const, 'void' as const, 'call' as const), pick: fc.nat(30), windowId: fc.constantFrom('w1', 'w2') }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
        const h = hall();
        h.run({ type: 'login', windowId: 'w1', staffId: 's1' });
        h.run({ type: 'login', windowId: 'w2', staffId: 's2' });
        const numbers: string[] = [];
        for (const c of commands) {
          try {
            if (c.type === 'issue') numbers.push(h.issue(c.serviceId, c.contact));
            else if ('pick' in c) {
              const number = numbers[c.pick % Math.max(1, numbers.length)];
              if (!number) continue;
              if (c.type === 'transfer') h.run({ type: 'transfer', number, toServiceId: c.toServiceId, ...(c.toWindowId ? { toWindowId: c.toWindowId, override: true } : {}) });
              else if (c.type === 'call') h.run({ type: 'call', windowId: c.windowId, number, override: true });
              else if (c.type === 'void') h.run({ type: 'void', number, reason: 'test' });
              else h.run({ type: 'requeue', number });
            } else h.run(c);
          } catch {
            // refusals are part of the game
          }
        }
        for (const number of numbers) {
          const once = h.of(number).filter((kind) => !kind.startsWith('recalled')).map((kind) => kind.split('@')[0]);
          expect(new Set(once).size).toBe(once.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('ticketsAheadOfMany agrees with ticketsAhead for every waiting ticket', () => {
    const h = hall();
    for (let i = 0; i < 20; i++) h.issue(i % 3 === 0 ? 'mi' : 'ss');
    h.run({ type: 'transfer', number: 'A004', toServiceId: 'mi', toWindowId: 'w2' });
    const numbers = [...h.engine.allTickets()].map((t) => t.number);
    const many = ticketsAheadOfMany(h.engine, numbers);
    for (const number of numbers) expect(many.get(number) ?? null).toBe(ticketsAhead(h.engine, number));
  });
});

describe('contacts', () => {
  it('accepts phone numbers and account ids, refuses the rest without repeating the value', () => {
    for (const ok of ['+8613800138000', '13800138000', '85212345678', 'account:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o']) expect(contactSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['138 0013 8000', '138-0013-8000', '+0138', '12345', '+1234567890123456', 'account:ab', `account:${'x'.repeat(129)}`, 'mail@example.com', '']) {
      const result = contactSchema.safeParse(bad);
      expect(result.success).toBe(false);
      if (bad.length > 4) expect(JSON.stringify(result.error?.issues)).not.toContain(bad);
    }
  });

  it('masks all but the last four characters, and scrubs contacts out of a gateway\'s text', () => {
    expect(maskContact('+8613800138000')).toBe('**********8000');
    expect(maskContact('account:oUpF8uMuAJO')).toBe('account:*******uAJO');
    expect(scrubContacts('SMS to +86 138 0013 8000 refused; account:wx-1234 blocked')).toBe('SMS to *** refused; account:*** blocked');
  });

  it('the logger redacts a contact field at any of three depths', () => {
    let out = '';
    const log = createLogger({ destination: new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) }) });
    log.info({ contact: '+8613800138000', notice: { contact: '+8613800138000' }, a: { b: { contact: '+8613800138000' } } }, 'careless');
    expect(out).toContain('careless');
    expect(out).not.toContain('13800138000');
  });
});
