import type { Principal } from './users.js';

/** The one client (or, without a client id, the user's sessions) an answer is meant for. */
export interface Recipient {
  username: string;
  clientId?: string;
}

/**
 * Answers are private: an answer is published on its ordinary topic (`bridge/response/<cmd>`,
 * `device/<id>/issue/response`), so simple clients keep subscribing where they always did, but
 * the broker forwards it only to the client that asked. Nobody else's subscription — an
 * observer's `hall/<id>/#`, another dashboard's `bridge/response/+` — receives it, so a 300 KB
 * ticket list goes out once, not once per dashboard.
 *
 * The recipient travels with the payload Buffer (aedes copies the packet around it but keeps the
 * payload object), in a WeakMap so nothing outlives the message.
 */
export class PrivateDeliveries {
  private readonly recipients = new WeakMap<Buffer, Recipient>();

  /** Marks `payload` as deliverable only to `to`; returns the same Buffer. */
  mark(payload: Buffer, to: Recipient): Buffer {
    this.recipients.set(payload, to);
    return payload;
  }

  /** May this message go to this connected client? */
  mayForward(payload: Buffer, clientId: string, principal: Principal | undefined): boolean {
    const to = this.recipients.get(payload);
    if (!to) return true;
    if (!principal || principal.username !== to.username) return false;
    return to.clientId === undefined || to.clientId === clientId;
  }
}
