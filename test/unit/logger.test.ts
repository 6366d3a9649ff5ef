import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { batchedPerTurn, CONTACT_CENSOR, createLogger, redactContacts } from '../../src/platform/logger.js';

describe('redactContacts', () => {
  it('censors `contact` at depths 1 to 3 and leaves the caller’s object as it was', () => {
    const fields = { contact: '+4670000', visitor: { contact: 'a@b', name: 'x' }, list: [{ contact: 'tel' }], deeper: { a: { b: { contact: 'kept' } } } };
    const before = structuredClone(fields);
    const out = redactContacts(fields);
    expect(out).toEqual({
      contact: CONTACT_CENSOR,
      visitor: { contact: CONTACT_CENSOR, name: 'x' },
      list: [{ contact: CONTACT_CENSOR }],
      // Depth 4 is beyond CONTACT_PATHS ('*.*.contact'), as with pino's redact before.
      deeper: { a: { b: { contact: 'kept' } } },
    });
    expect(fields).toEqual(before);
  });

  it('returns the very object when there is nothing to censor (no copy on the hot path)', () => {
    const fields = { seq: 1, event: 'ticket.issued', ticket: 'A001', nested: { a: { b: 1 } }, bytes: Buffer.from('contact') };
    expect(redactContacts(fields)).toBe(fields);
  });

  it('is what the daemon logger writes: a contact never reaches the line', () => {
    const lines: string[] = [];
    const log = createLogger({ destination: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) });
    log.info({ request: 'issue', payload: { contact: '+46700000000' } }, 'with a contact');
    log.child({ component: 'x' }).warn({ contact: 'someone@example.org' }, 'top level');
    expect(lines.join('')).not.toMatch(/46700000000|someone@example/);
    expect(lines.join('')).toContain(CONTACT_CENSOR);
  });
});

describe('batchedPerTurn', () => {
  it('hands the lines of one synchronous stretch to the sink as one write, in order', async () => {
    const writes: string[] = [];
    const log = pino({ base: null, timestamp: false }, batchedPerTurn({ write: (chunk: string) => writes.push(chunk) }));
    for (let i = 0; i < 100; i++) log.info({ i }, 'line');
    expect(writes).toEqual([]);
    await Promise.resolve();
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => i));
    log.info({ i: 100 }, 'next turn');
    await Promise.resolve();
    expect(writes).toHaveLength(2);
  });

  it('flushSync hands over what is still held before flushing the sink', () => {
    const writes: string[] = [];
    let flushed = 0;
    const sink = batchedPerTurn({ write: (chunk: string) => writes.push(chunk), flushSync: () => void flushed++ });
    sink.write('a\n');
    sink.write('b\n');
    sink.flushSync!();
    expect(writes).toEqual(['a\nb\n']);
    expect(flushed).toBe(1);
  });
});
