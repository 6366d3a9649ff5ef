import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import pg from 'pg';

/** Where Debian's (and most distributions') PostgreSQL listens on its Unix socket; libpq's compiled-in default. */
const SOCKET_DIRS = ['/var/run/postgresql', '/tmp'];

/**
 * A pool for a `postgres://` URL read the way psql and libpq read it, so the URL an operator
 * tried with psql works here too. node-postgres differs in two ways that bite on a stock
 * Debian install: without a host it connects over TCP to localhost (where Debian asks for a
 * password) instead of the Unix socket (where the OS user is let in), and without a user it
 * takes $USER (unset under some service managers and containers) instead of the OS user.
 */
export function centralPool(url: string, max: number): pg.Pool {
  return new pg.Pool({ connectionString: libpqLike(url), max });
}

/** The URL with libpq's defaults filled in where node-postgres would use its own (exported for the tests). */
export function libpqLike(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    const socketDir = SOCKET_DIRS.find((dir) => existsSync(dir));
    if (socketDir) parsed.searchParams.set('host', socketDir);
  }
  // (As a parameter: a URL without a host cannot carry a user name.)
  if (parsed.username === '' && !parsed.searchParams.has('user') && !process.env.PGUSER && !process.env.USER) parsed.searchParams.set('user', userInfo().username);
  return parsed.toString();
}
