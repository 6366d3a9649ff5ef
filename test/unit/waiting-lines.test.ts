import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaitingLines } from '../../src/queue/waiting-lines.js';

describe('WaitingLines.oldestIssuedAt', () => {
  it('always equals the minimum issuedAt of the entries in the line, through inserts (requeues with old times) and removals', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), order: fc.nat(50), issuedAt: fc.nat(1000) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(100) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const lines = new WaitingLines();
        const present = new Map<string, number>();
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'insert') {
            const number = `A${next++}`;
            lines.insert('s', { number, order: o.order, priority: false, appointment: false, issuedAt: o.issuedAt });
            present.set(number, o.issuedAt);
          } else if (present.size > 0) {
            const number = [...present.keys()][o.pick % present.size]!;
            lines.remove('s', number);
            present.delete(number);
          }
          const expected = present.size === 0 ? undefined : Math.min(...present.values());
          expect(lines.oldestIssuedAt('s')).toBe(expected);
        }
      }),
    );
  });
});
