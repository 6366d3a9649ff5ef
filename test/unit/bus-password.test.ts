import { describe, expect, it } from 'vitest';
import { decoyHash, hashPassword, parsePasswordHash, PasswordHashFormatError, verifyPassword, verifyPasswordAsync } from '../../src/bus/password.js';
import { Authenticator } from '../../src/bus/authenticator.js';

describe('password hashes', () => {
  const hash = hashPassword('窗口-07 secret');

  it('uses the documented format with N=16384 r=8 p=1 and a 32-byte key', () => {
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    const parsed = parsePasswordHash(hash);
    expect(parsed.key.length).toBe(32);
    expect(parsed.salt.length).toBe(16);
  });

  it('verifies the right password and refuses others', async () => {
    expect(verifyPassword('窗口-07 secret', hash)).toBe(true);
    expect(verifyPassword('窗口-07 secreT', hash)).toBe(false);
    expect(verifyPassword('', hash)).toBe(false);
    expect(await verifyPasswordAsync('窗口-07 secret', parsePasswordHash(hash))).toBe(true);
    expect(await verifyPasswordAsync(Buffer.from('窗口-07 secret'), parsePasswordHash(hash))).toBe(true);
    expect(await verifyPasswordAsync('nope', parsePasswordHash(hash))).toBe(false);
  });

  it("checks an unknown user against a decoy with a real hash's cost, which no password matches", async () => {
    const real = parsePasswordHash(hash);
    const decoy = decoyHash();
    expect({ N: decoy.N, r: decoy.r, p: decoy.p, salt: decoy.salt.length, key: decoy.key.length }).toEqual({ N: real.N, r: real.r, p: real.p, salt: 16, key: 32 });
    expect(decoyHash().key.equals(decoy.key)).toBe(false);
    for (const guess of ['', 'decoy', '窗口-07 secret']) expect(await verifyPasswordAsync(guess, decoy)).toBe(false);
    const auth = new Authenticator([{ username: 'op', role: 'operator', passwordHash: hash }]);
    expect(await auth.authenticate('nobody', Buffer.from('decoy'))).toEqual({ ok: false, reason: 'unknown user' });
    expect(await auth.authenticate('op', Buffer.from('窗口-07 secret'))).toMatchObject({ ok: true });
  });

  it('salts: the same password hashes differently each time', () => {
    expect(hashPassword('same')).not.toBe(hashPassword('same'));
  });

  it.each([
    ['', 'empty'],
    ['bcrypt$10$abc', 'other algorithm'],
    ['scrypt$16384$8$1$c2FsdA==', 'missing field'],
    ['scrypt$16000$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', 'N not a power of two'],
    ['scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', 'N too large'],
    ['scrypt$1048576$32$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', 'too much memory'],
    ['scrypt$16384$0$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', 'r zero'],
    ['scrypt$16384$8$99$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', 'p too large'],
    ['scrypt$16384$8$1$not base64!$aGFzaGhhc2hoYXNoaGFzaA==', 'salt not base64'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaA==', 'hash too short'],
    ['scrypt$-1$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', 'negative N'],
  ])('rejects %j (%s) with a clear error, and verifies it as false', (bad) => {
    expect(() => parsePasswordHash(bad)).toThrow(PasswordHashFormatError);
    expect(() => parsePasswordHash(bad)).toThrow(/hall-edge passwd/);
    expect(verifyPassword('anything', bad)).toBe(false);
  });
});
