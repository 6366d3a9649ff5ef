import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The key in a ticket's phone link (`/t/<day>/<number>?k=<token>`): an HMAC-SHA256 of the day and
 * the number under the hall's secret, cut to 128 bits (22 base64url characters, short enough
 * for a small QR code). Without the secret a token cannot be made, so tickets cannot be
 * enumerated by trying numbers.
 */
export const TOKEN_LENGTH = 22;
const TOKEN_BYTES = 16;

export function ticketToken(secret: Buffer, day: string, number: string): string {
  return mac(secret, day, number).toString('base64url');
}

/**
 * Constant-time: how much of a guess is right does not show in the time it takes to refuse it.
 * The text is compared, not the decoded bytes: 22 base64url characters carry 132 bits for 128,
 * so decoding would take several spellings of the last character for the same token.
 */
export function ticketTokenMatches(secret: Buffer, day: string, number: string, token: string): boolean {
  if (token.length !== TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return false;
  return timingSafeEqual(Buffer.from(token, 'ascii'), Buffer.from(ticketToken(secret, day, number), 'ascii'));
}

function mac(secret: Buffer, day: string, number: string): Buffer {
  // A separator no day or number contains, so ("2026-12-0", "1A001") cannot collide with ("2026-12-01", "A001").
  return createHmac('sha256', secret).update(`hall-edge ticket\n${day}\n${number}`).digest().subarray(0, TOKEN_BYTES);
}
