import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { libpqLike } from '../../src/central/database.js';

describe('the collector reads a postgres:// URL as psql does', () => {
  const saved = { USER: process.env.USER, PGUSER: process.env.PGUSER };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('leaves a URL with a host and a user as it is', () => {
    delete process.env.USER;
    expect(libpqLike('postgres://hall_edge@db.city.example:5433/city?sslmode=require')).toBe('postgres://hall_edge@db.city.example:5433/city?sslmode=require');
    expect(libpqLike('postgres:///city?host=/tmp&user=bob')).toBe('postgres:///city?host=/tmp&user=bob');
  });

  it('without a host, the local Unix socket; without a user (and no $USER), the OS user', () => {
    delete process.env.USER;
    delete process.env.PGUSER;
    const url = new URL(libpqLike('postgres:///city'));
    const socket = ['/var/run/postgresql', '/tmp'].find((dir) => existsSync(dir));
    expect(url.searchParams.get('host')).toBe(socket ?? null);
    expect(url.searchParams.get('user')).toBe(userInfo().username);
    expect(url.pathname).toBe('/city');
  });

  it('lets node-postgres take $USER when it is set', () => {
    process.env.USER = 'someone';
    expect(new URL(libpqLike('postgres:///city')).searchParams.has('user')).toBe(false);
  });
});
