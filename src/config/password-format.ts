/**
 * The shape of a password hash in the config: `scrypt$N$r$p$<salt b64>$<hash b64>`, as made by
 * `hall-edge passwd`. Only the format is checked here, at load, so a pasted-wrong hash is
 * reported with its field path before the broker starts; src/bus verifies passwords and
 * enforces its own cost bounds.
 */

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_N = 1 << 20;

/** Undefined when the format is right; otherwise what is wrong with it. */
export function passwordHashProblem(hash: string): string | undefined {
  const expected = 'expected scrypt$N$r$p$<salt base64>$<hash base64> (make one with `hall-edge passwd`)';
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return `not a password hash: ${expected}`;
  const [n, r, p] = [parts[1], parts[2], parts[3]].map((part) => (part !== undefined && /^\d+$/.test(part) ? Number(part) : Number.NaN)) as [number, number, number];
  if (!(n >= 2 && n <= MAX_N && (n & (n - 1)) === 0)) return `scrypt N must be a power of two between 2 and ${MAX_N}: ${expected}`;
  if (!(r >= 1 && r <= 32)) return `scrypt r must be 1..32: ${expected}`;
  if (!(p >= 1 && p <= 16)) return `scrypt p must be 1..16: ${expected}`;
  const salt = parts[4] ?? '';
  const key = parts[5] ?? '';
  if (!BASE64.test(salt)) return `salt is not base64: ${expected}`;
  if (!BASE64.test(key)) return `hash is not base64: ${expected}`;
  if (Buffer.from(key, 'base64').length < 16) return `hash is shorter than 16 bytes: ${expected}`;
  return undefined;
}
