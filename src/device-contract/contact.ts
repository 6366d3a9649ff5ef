import { z } from 'zod';

/**
 * A visitor's contact for "your turn is near" notices: a phone number or an opaque account id of
 * an app (a WeChat openid, a city app's user id). Personal data: it is checked here, kept
 * encrypted by the hall (src/notify), and never logged, journaled in clear or published except
 * to the notification gateway. Validation messages never repeat the value.
 */
const PHONE = /^\+?[1-9][0-9]{6,14}$/;
const ACCOUNT = /^account:[A-Za-z0-9._~-]{4,128}$/;
export const MAX_CONTACT_LENGTH = 136;

export const contactSchema = z
  .string()
  .max(MAX_CONTACT_LENGTH, { error: `a contact is at most ${MAX_CONTACT_LENGTH} characters` })
  .refine((value) => PHONE.test(value) || ACCOUNT.test(value), {
    error: 'a contact is a phone number (7 to 15 digits, an optional leading "+", no spaces) or "account:<id>" (4 to 128 letters, digits, ".", "_", "~", "-")',
  });

export type ContactKind = 'phone' | 'account';

export function contactKind(contact: string): ContactKind {
  return contact.startsWith('account:') ? 'account' : 'phone';
}

/** For a person reading a log or a screen: all but the last four characters hidden ("*******8000"). */
export function maskContact(contact: string): string {
  const kind = contactKind(contact);
  const value = kind === 'account' ? contact.slice('account:'.length) : contact;
  const shown = value.slice(-4);
  return `${kind === 'account' ? 'account:' : ''}${'*'.repeat(Math.max(3, value.length - shown.length))}${shown}`;
}

/**
 * Text from outside (a gateway's failure reason) with anything that looks like a contact hidden:
 * runs of 5 or more digits (with separators) and account ids. For the log.
 */
export function scrubContacts(text: string): string {
  return text.replace(/account:\S+/g, 'account:***').replace(/\+?\d[\d\s-]{3,}\d/g, '***');
}
