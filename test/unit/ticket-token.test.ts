import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ticketToken, ticketTokenMatches, TOKEN_LENGTH } from '../../src/visitors/ticket-token.js';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');

describe('ticket link tokens', () => {
  it('are 22 url-safe characters, fixed by secret, day and number', () => {
    const token = ticketToken(secret, '2026-12-01', 'A023');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(token.length).toBe(TOKEN_LENGTH);
    expect(ticketToken(secret, '2026-12-01', 'A023')).toBe(token);
    expect(ticketToken(secret, '2026-12-02', 'A023')).not.toBe(token);
    expect(ticketToken(secret, '2026-12-01', 'A024')).not.toBe(token);
    expect(ticketToken(Buffer.from('another secret, another hall....'), '2026-12-01', 'A023')).not.toBe(token);
  });

  it('match only their own day and number', () => {
    const token = ticketToken(secret, '2026-12-01', 'A023');
    expect(ticketTokenMatches(secret, '2026-12-01', 'A023', token)).toBe(true);
    expect(ticketTokenMatches(secret, '2026-12-01', 'A024', token)).toBe(false);
    expect(ticketTokenMatches(secret, '2026-11-30', 'A023', token)).toBe(false);
    for (const bad of ['', token.slice(1), `${token}A`, token.replace(/.$/, '+'), token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase()]) {
      expect(ticketTokenMatches(secret, '2026-12-01', 'A023', bad)).toBe(false);
    }
  });

  it('only one spelling matches: no other last character is taken for the same bits', () => {
    const token = ticketToken(secret, '2026-12-01', 'A023');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted = [...alphabet].filter((c) => ticketTokenMatches(secret, '2026-12-01', 'A023', `${token.slice(0, -1)}${c}`));
    expect(accepted).toEqual([token.at(-1)]);
  });

  it('no guessed token matches (property)', () => {
    const real = ticketToken(secret, '2026-12-01', 'A023');
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 30 }), (guess) => {
        expect(ticketTokenMatches(secret, '2026-12-01', 'A023', guess)).toBe(guess === real);
      }),
      { numRuns: 2000 },
    );
  });
});
