import { decoyHash, parsePasswordHash, verifyPasswordAsync, type ParsedHash } from './password.js';
import { ROLES, isTopicLevel, type MqttUser, type Principal } from './users.js';

export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'anonymous' | 'unknown user' | 'wrong password' };

interface UserEntry {
  principal: Principal;
  hash: ParsedHash;
}

export class MqttUserConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MqttUserConfigError';
  }
}

/**
 * Checks CONNECT credentials against the configured users. Nothing is cached: every CONNECT
 * runs scrypt, and an unknown username runs it too (against a throw-away hash) so response time
 * does not reveal which usernames exist.
 */
export class Authenticator {
  private readonly users = new Map<string, UserEntry>();
  private readonly decoy: ParsedHash;

  constructor(users: readonly MqttUser[]) {
    for (const user of users) {
      const where = `mqtt user "${user.username}"`;
      if (!user.username) throw new MqttUserConfigError('an mqtt user has an empty username');
      if (this.users.has(user.username)) throw new MqttUserConfigError(`${where} is listed twice`);
      if (!ROLES.includes(user.role)) throw new MqttUserConfigError(`${where}: role must be one of ${ROLES.join(', ')}`);
      if (user.role === 'device' && (user.deviceId === undefined || !isTopicLevel(user.deviceId))) {
        throw new MqttUserConfigError(`${where}: role device needs a deviceId without '/', '+' or '#'`);
      }
      let hash: ParsedHash;
      try {
        hash = parsePasswordHash(user.passwordHash);
      } catch (err) {
        throw new MqttUserConfigError(`${where}: ${(err as Error).message}`);
      }
      const principal: Principal = { username: user.username, role: user.role };
      if (user.role === 'device') principal.deviceId = user.deviceId;
      this.users.set(user.username, { principal, hash });
    }
    this.decoy = decoyHash();
  }

  async authenticate(username: string | undefined, password: Buffer | undefined): Promise<AuthOutcome> {
    if (!username || password === undefined) return { ok: false, reason: 'anonymous' };
    const entry = this.users.get(username);
    const matches = await verifyPasswordAsync(password, entry?.hash ?? this.decoy);
    if (!entry) return { ok: false, reason: 'unknown user' };
    return matches ? { ok: true, principal: entry.principal } : { ok: false, reason: 'wrong password' };
  }
}
