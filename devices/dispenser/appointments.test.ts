import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { AppointmentBook } from './appointment-book.js';
import { idChecksumValid, parseReaderLine } from './reader-line.js';

const vectors = JSON.parse(readFileSync(new URL('../../firmware-protocols/vectors/appointment-reader.json', import.meta.url), 'utf8')) as {
  lines: Array<{ line: string; result: { ok: true; input: unknown } | { ok: false; reason: string } }>;
};

describe('appointment reader lines', () => {
  it.each(vectors.lines)('"$line"', ({ line, result }) => {
    const parsed = parseReaderLine(`${line}\r\n`);
    if (result.ok) expect(parsed).toEqual(result);
    else {
      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? '' : parsed.error).toContain(result.reason);
    }
  });

  it('checks the GB 11643 check digit', () => {
    expect(idChecksumValid('11010519491231002X')).toBe(true);
    expect(idChecksumValid('110105194912310021')).toBe(false);
  });
});

const NINE = Date.UTC(2026, 10, 23, 1, 0, 0); // 09:00 Shanghai
const MIN = 60_000;

function book(): AppointmentBook {
  const b = new AppointmentBook({ salt: 'salt-for-tests', timeZone: 'Asia/Shanghai', earlyMinutes: 30, lateMinutes: 15 });
  b.load([
    { serviceId: 'ss', slotStart: NINE + 60 * MIN, slotEnd: NINE + 90 * MIN, code: 'C1' },
    { serviceId: 'mi', slotStart: NINE, slotEnd: NINE + 30 * MIN, idNumber: '11010519491231002X', code: 'C2' },
    { serviceId: 'ss', slotStart: NINE + 24 * 60 * MIN, slotEnd: NINE + 25 * 60 * MIN, code: 'TOMORROW' },
    { serviceId: 'ss', slotStart: NINE - 24 * 60 * MIN, slotEnd: NINE - 23 * 60 * MIN, code: 'YESTERDAY' },
    { serviceId: 'ss', slotStart: NINE, slotEnd: NINE, code: 'BAD-SLOT' },
    { serviceId: 'ss', slotStart: NINE, slotEnd: NINE + MIN },
  ]);
  return b;
}

describe('AppointmentBook', () => {
  it('loads valid bookings only and never keeps raw codes or ID numbers', () => {
    const b = book();
    expect(b.size).toBe(4);
    const dump = JSON.stringify([...(b as unknown as { byKey: Map<string, unknown> }).byKey.entries()]);
    expect(dump).not.toContain('11010519491231002X');
    expect(dump).not.toContain('C1');
  });

  it('checks in by code or by ID number, once', () => {
    const b = book();
    const first = b.checkIn('11010519491231002x', NINE + 5 * MIN);
    expect(first).toMatchObject({ ok: true, appointment: { serviceId: 'mi', slotStart: NINE } });
    // The reference is the code's hash when there is a code, so both ways in give the same ticket reference.
    expect(first.ok && first.appointment.reference).toBe(b.hash('C2'));
    expect(b.checkIn('c2', NINE + 6 * MIN)).toEqual({ ok: false, reason: 'used' });
  });

  it('refuses unknown, too early, expired and other days', () => {
    const b = book();
    expect(b.checkIn('NOPE', NINE)).toEqual({ ok: false, reason: 'unknown' });
    expect(b.checkIn('C1', NINE + 29 * MIN)).toEqual({ ok: false, reason: 'too-early' });
    expect(b.checkIn('C1', NINE + 106 * MIN)).toEqual({ ok: false, reason: 'expired' });
    expect(b.checkIn('TOMORROW', NINE)).toEqual({ ok: false, reason: 'not-today' });
    expect(b.checkIn('YESTERDAY', NINE)).toEqual({ ok: false, reason: 'expired' });
    expect(b.checkIn('C1', NINE + 30 * MIN)).toMatchObject({ ok: true });
  });

  it('gives a check-in back when its ticket could not be printed', () => {
    const b = book();
    const result = b.checkIn('C1', NINE + 60 * MIN);
    expect(result.ok).toBe(true);
    if (result.ok) b.release(result.appointment.reference);
    expect(b.checkIn('C1', NINE + 61 * MIN)).toMatchObject({ ok: true });
  });

  it('refuses a short salt', () => {
    expect(() => new AppointmentBook({ salt: 'short', timeZone: 'Asia/Shanghai' })).toThrow(/salt/);
  });
});
