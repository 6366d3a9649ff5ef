import type { Principal } from './users.js';

export type ClaimResult = { ok: true } | { ok: false; holder: string };

interface Holder<C> {
  principal: Principal;
  /** The connected client using the id; undefined while a persistent session waits offline. */
  client: C | undefined;
  /** A persistent session (CONNECT without clean session) keeps the id for its user after a disconnect. */
  keepsSession: boolean;
}

/**
 * Who holds which MQTT client id. MQTT lets a new connection with a known client id take over
 * the old one; on a shared broker that let any logged-in account (an observer, a kiosk) kick the
 * operators' dashboard off, or inherit its persistent session. Here an id belongs to the user
 * holding it: another user is refused, the same user may take over its own session.
 */
export class ClientIdRegistry<C extends object> {
  private readonly holders = new Map<string, Holder<C>>();

  /** Called once the credentials were checked; claims the id for this user or says who holds it. */
  claim(clientId: string, client: C, principal: Principal, keepsSession: boolean): ClaimResult {
    const holder = this.holders.get(clientId);
    if (holder && holder.principal.username !== principal.username) return { ok: false, holder: holder.principal.username };
    this.holders.set(clientId, { principal, client, keepsSession });
    return { ok: true };
  }

  /** The client's connection ended; a taken-over client no longer holds anything. */
  release(clientId: string, client: C): void {
    const holder = this.holders.get(clientId);
    if (!holder || holder.client !== client) return;
    if (holder.keepsSession) holder.client = undefined;
    else this.holders.delete(clientId);
  }

  /** The user of the client connected with this id, if one is. */
  connectedPrincipal(clientId: string): Principal | undefined {
    const holder = this.holders.get(clientId);
    return holder?.client ? holder.principal : undefined;
  }

  /** The client connected with this id, if one is. */
  connectedClient(clientId: string): C | undefined {
    return this.holders.get(clientId)?.client;
  }

  clear(): void {
    this.holders.clear();
  }
}
