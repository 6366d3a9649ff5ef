import { z } from 'zod';
import { strictObject } from './strict-object.js';

/**
 * `notify:` — "your turn is near" notices (src/notify): tickets issued with a visitor's contact
 * are announced to a notification gateway (a `device` user that sends the SMS or app message)
 * on `notify/<gatewayId>`. Absent = the hall sends no notices and refuses contacts.
 */
export const notifySection = strictObject({
  /** Gateway ids, in order of preference: each is the deviceId of a `device` user. */
  gateways: z.array(z.string().regex(/^[a-z0-9_-]{1,64}$/, 'a gateway id (a device user\'s deviceId: a-z, 0-9, "-", "_")')).min(1).max(8),
  /** Tell the visitor when this many tickets (or fewer) are ahead; each threshold once per ticket. */
  thresholds: z
    .array(z.number().int().min(0).max(100))
    .min(1)
    .max(5)
    .default([5, 1])
    .refine((list) => new Set(list).size === list.length, { error: 'each threshold once' }),
  /**
   * The file with the key that encrypts stored contacts (AES-256-GCM), outside the journal.
   * Default: <stateDir>/contacts.key. A new key is made every business day, and the old one is
   * destroyed at day end (with it every copy of the day's contacts).
   */
  keyFile: z.string().min(1).optional(),
  /** How long a gateway has to answer delivered/failed before the notice is sent again. */
  answerTimeoutSeconds: z.number().int().min(1).max(600).default(30),
  /** Sends of one notice (first try included) before it is given up. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** A notice not sent within this long (no gateway online) is dropped: it would mislead. */
  maxAgeMinutes: z.number().int().min(1).max(240).default(15),
});

export type NotifySection = z.output<typeof notifySection>;

/** Each gateway must be a device user's deviceId: the ACL lets only that user read its notices. */
export function checkNotifyGateways(
  config: { notify?: NotifySection; users: ReadonlyArray<{ role: string; deviceId?: string }> },
  report: (path: PropertyKey[], message: string) => void,
): void {
  config.notify?.gateways.forEach((gateway, index) => {
    if (!config.users.some((user) => user.role === 'device' && user.deviceId === gateway)) {
      report(['notify', 'gateways', index], `no device user has deviceId "${gateway}": add one (role device) for the gateway to log in with`);
    }
  });
}
