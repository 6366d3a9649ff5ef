/**
 * One line from the appointment reader (firmware-protocols/appointment-reader.md):
 * `CODE:<code>`, `ID:<ID card number>`, or a bare value as a barcode scanner sends it.
 */
export type ReaderInput = { kind: 'code'; value: string } | { kind: 'id'; value: string };
export type ReaderLineResult = { ok: true; input: ReaderInput } | { ok: false; error: string };

const CODE = /^[A-Z0-9-]{4,32}$/;
const ID_NUMBER = /^\d{17}[\dX]$/;
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** GB 11643 check digit of an 18-digit resident ID number (ISO 7064 MOD 11-2): catches misreads. */
export function idChecksumValid(id: string): boolean {
  if (!ID_NUMBER.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11] === id[17];
}

/** The longest line the reader protocol has (`CODE:` and 32 characters, or `ID:` and 18), with room to spare. */
export const MAX_READER_LINE_BYTES = 64;

export function parseReaderLine(raw: string): ReaderLineResult {
  const line = raw.replace(/[\r\n]+$/, '').trim();
  if (line === '') return { ok: false, error: 'empty line' };
  if (!/^[\x20-\x7e]+$/.test(line)) return { ok: false, error: 'non-ASCII bytes in the line' };
  const colon = line.indexOf(':');
  const prefix = colon > 0 ? line.slice(0, colon).toUpperCase() : undefined;
  const value = (colon > 0 ? line.slice(colon + 1) : line).trim().toUpperCase();
  if (prefix === 'ID' || (prefix === undefined && ID_NUMBER.test(value))) {
    if (!idChecksumValid(value)) return { ok: false, error: 'ID card number with a bad check digit (misread?)' };
    return { ok: true, input: { kind: 'id', value } };
  }
  if (prefix !== undefined && prefix !== 'CODE') return { ok: false, error: `unknown prefix "${prefix}"` };
  if (!CODE.test(value)) return { ok: false, error: 'an appointment code is 4-32 characters A-Z, 0-9 or -' };
  return { ok: true, input: { kind: 'code', value } };
}
