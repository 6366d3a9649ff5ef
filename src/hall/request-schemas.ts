import { z } from 'zod';
import { formatZodIssues } from '../platform/zod-issues.js';

export { formatZodIssues };
import type { QueueCommand } from '../queue/commands.js';
import { contactSchema } from '../device-contract/contact.js';

/**
 * The payloads of `bridge/request/<command>` for queue commands. Strict objects: a misspelt
 * field is an error the caller sees, not something silently ignored. `transaction` is the
 * caller's own id, echoed in the response, and is stripped before validation.
 */
const id = z.string().min(1).max(64);
const number = z.string().regex(/^[A-Z]\d{2,4}$/, 'a ticket number like A023');

export const queueRequestSchemas = {
  issue: z.strictObject({
    serviceId: id,
    channel: z.enum(['kiosk', 'mobile', 'operator', 'appointment']).default('operator'),
    priority: z.boolean().optional(),
    items: z.array(z.string().min(1).max(100)).max(20).optional(),
    appointment: z
      .strictObject({ slotStart: z.number().int().positive(), slotEnd: z.number().int().positive(), reference: z.string().max(128).optional() })
      .optional(),
    /** For "your turn is near" notices (src/notify); taken off the command before the queue sees it. */
    contact: contactSchema.optional(),
  }),
  'call-next': z.strictObject({ windowId: id }),
  call: z.strictObject({ windowId: id, number, override: z.boolean().optional() }),
  recall: z.strictObject({ windowId: id }),
  skip: z.strictObject({ windowId: id }),
  requeue: z.strictObject({ number }),
  transfer: z.strictObject({ number, toServiceId: id.optional(), toWindowId: id.optional(), override: z.boolean().optional() }),
  start: z.strictObject({ windowId: id }),
  finish: z.strictObject({ windowId: id }),
  void: z.strictObject({ number, reason: z.string().min(1).max(200) }),
  pause: z.strictObject({ windowId: id, reason: z.string().max(100).optional() }),
  resume: z.strictObject({ windowId: id }),
  login: z.strictObject({ windowId: id, staffId: id }),
  /** `staffId`, when given, must be who is logged in there (a pad or dashboard logging out the wrong person). */
  logout: z.strictObject({ windowId: id, staffId: id.optional() }),
  rate: z.strictObject({
    windowId: id,
    number: number.optional(),
    rating: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]).optional(),
    timedOut: z.boolean().optional(),
  }),
} as const;

export type QueueRequestName = keyof typeof queueRequestSchemas;

/** `tickets` pages: a hall's whole day in one answer would be a few hundred KB of JSON. */
export const DEFAULT_TICKETS_PAGE = 500;
export const MAX_TICKETS_PAGE = 1000;

/** The payloads of the read-only requests MqttApi answers itself (`info` and `health` take none). */
export const queryRequestSchemas = {
  ticket: z.strictObject({ number: z.string().min(1) }),
  tickets: z.strictObject({
    serviceId: z.string().optional(),
    state: z.string().optional(),
    limit: z.number().int().min(1).max(MAX_TICKETS_PAGE).default(DEFAULT_TICKETS_PAGE),
    after: z.string().min(1).optional(),
  }),
  stats: z.strictObject({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }),
} as const;

/** The payloads of the requests the daemon adds (`devices` takes none). */
export const daemonRequestSchemas = {
  broadcast: z.strictObject({ text: z.string().min(1).max(200) }),
  report: z.strictObject({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }),
  backup: z.strictObject({}),
} as const;

export function isQueueRequest(name: string): name is QueueRequestName {
  return Object.hasOwn(queueRequestSchemas, name);
}

/** Validates a request payload into a queue command, or returns readable problems. */
export function parseQueueRequest(name: QueueRequestName, payload: Record<string, unknown>): { command: QueueCommand; contact?: string } | { problems: string } {
  const result = queueRequestSchemas[name].safeParse(payload);
  if (!result.success) return { problems: formatZodIssues(result.error.issues) };
  // A visitor's contact is personal data: it never enters the queue, its events or the journal.
  const { contact, ...fields } = result.data as { contact?: string };
  return { command: { type: name, ...fields } as QueueCommand, ...(contact !== undefined ? { contact } : {}) };
}

