import { randomBytes, scrypt as scryptCallback, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes for MQTT users, stored in the config as
 * `scrypt$<N>$<r>$<p>$<saltBase64>$<hashBase64>`. scrypt because it is in node:crypto (no native
 * addon to build on the edge box) and is memory-hard; the parameters travel with the hash so they
 * can be raised later without invalidating existing users.
 */

const DEFAULT_COST = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/*
 * A config file is trusted but can be mistyped or tampered with; these bounds keep a hostile
 * hash from making every CONNECT allocate gigabytes or spin for minutes.
 */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

export class PasswordHashFormatError extends Error {
  constructor(reason: string) {
    super(`invalid password hash (${reason}); expected scrypt$N$r$p$salt$hash — generate one with \`hall-edge passwd\``);
    this.name = 'PasswordHashFormatError';
  }
}

export function hashPassword(plain: string): string {
  const salt = randomBytes(SALT_BYTES);
  const { N, r, p } = DEFAULT_COST;
  const key = scryptSync(plain, salt, KEY_BYTES, scryptOptions(N, r, p));
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * What an unknown username is checked against, so a refusal costs the same scrypt as a wrong
 * password. The key is random bytes, not the hash of anything: no password matches it, and
 * making one costs no scrypt at start-up (hashing a decoy took ~0.1 s of every daemon start).
 */
export function decoyHash(): ParsedHash {
  return { ...DEFAULT_COST, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };
}

/** Throws PasswordHashFormatError; used at config load so a bad hash is reported before any CONNECT. */
export function parsePasswordHash(hash: string): ParsedHash {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new PasswordHashFormatError('wrong number of fields or not scrypt');
  const [N, r, p] = [parts[1], parts[2], parts[3]].map((s) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN)) as [number, number, number];
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) throw new PasswordHashFormatError(`N must be a power of two between 2 and ${MAX_N}`);
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) throw new PasswordHashFormatError(`r must be 1..${MAX_R}`);
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) throw new PasswordHashFormatError(`p must be 1..${MAX_P}`);
  if (128 * N * r > MAX_MEMORY_BYTES) throw new PasswordHashFormatError('N*r would need more than 256 MiB per check');
  const salt = decodeBase64(parts[4] ?? '', 'salt');
  const key = decodeBase64(parts[5] ?? '', 'hash');
  if (key.length < 16) throw new PasswordHashFormatError('hash shorter than 16 bytes');
  return { N, r, p, salt, key };
}

/** Synchronous check for the CLI; a malformed hash verifies as false rather than throwing. */
export function verifyPassword(plain: string, hash: string): boolean {
  let parsed: ParsedHash;
  try {
    parsed = parsePasswordHash(hash);
  } catch {
    return false;
  }
  const candidate = scryptSync(plain, parsed.salt, parsed.key.length, scryptOptions(parsed.N, parsed.r, parsed.p));
  return timingSafeEqual(candidate, parsed.key);
}

/**
 * The broker's check: scrypt runs on the libuv thread pool, so a burst of CONNECTs at opening
 * time does not stall the call-next loop for ~50 ms each.
 */
export async function verifyPasswordAsync(plain: string | Buffer, parsed: ParsedHash): Promise<boolean> {
  const candidate = await new Promise<Buffer>((resolve, reject) => {
    scryptCallback(plain, parsed.salt, parsed.key.length, scryptOptions(parsed.N, parsed.r, parsed.p), (err, derived) => {
      if (err) reject(err);
      else resolve(derived);
    });
  });
  return timingSafeEqual(candidate, parsed.key);
}

function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  // node's default maxmem (32 MiB) is below 128*N*r for the upper bounds we accept.
  return { N, r, p, maxmem: 128 * N * r + MAX_MEMORY_BYTES };
}

function decodeBase64(text: string, field: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new PasswordHashFormatError(`${field} is not base64`);
  return Buffer.from(text, 'base64');
}
