import { z } from 'zod';

/**
 * The notification gateway's side of MQTT (docs/mqtt-api.md, "Notifications"). Topics are
 * relative to the hall's base `hall/<hallId>`:
 *
 *   notify/<gatewayId>          hall → gateway   a notice to send (QoS 1, never retained)
 *   notify/<gatewayId>/result   gateway → hall   { id, status: delivered|failed, reason? }
 *   notify/<gatewayId>/state    gateway → hall   { state: online|offline } (offline as its will)
 *
 * The broker delivers these to that gateway only (src/bus/acl.ts mayReceive).
 */
export const NOTIFY_PROTOCOL_VERSION = 1;

export const noticeTopic = (gatewayId: string): string => `notify/${gatewayId}`;

export type NoticeKind = 'near' | 'called' | 'recalled';

export interface NoticeMessage {
  v: typeof NOTIFY_PROTOCOL_VERSION;
  /**
   * `<day>/<ticket>/<kind>` (`near-5`, `called`, `recalled-1`): the same for every attempt of
   * one notice, so a gateway sends a notice it already sent at most once.
   */
  id: string;
  kind: NoticeKind;
  day: string;
  ticket: string;
  /** near: tickets ahead now, and the threshold that was reached. */
  ahead?: number;
  threshold?: number;
  /** called / recalled: the window to go to. */
  window?: { id: string; number: number };
  service: { zh: string; en: string };
  /** A phone number or `account:<id>` (src/device-contract/contact.ts). */
  contact: string;
  contactKind: 'phone' | 'account';
  /** The message, ready to send. */
  text: { zh: string; en: string };
  /** When the hall decided the notice (epoch ms) and which try this is (1, 2 ...). */
  at: number;
  attempt: number;
}

export const noticeResultSchema = z.strictObject({
  id: z.string().min(1).max(200),
  status: z.enum(['delivered', 'failed']),
  /** Why it failed, for the log (anything that looks like a contact is hidden before logging). */
  reason: z.string().max(200).optional(),
});
export type NoticeResult = z.output<typeof noticeResultSchema>;

export const gatewayStateSchema = z.strictObject({ state: z.enum(['online', 'offline']) });
