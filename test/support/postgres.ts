import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/** Debian's PostgreSQL 15 binaries, or whatever is on the PATH. */
function pgBin(name: string): string {
  const debian = `/usr/lib/postgresql/15/bin/${name}`;
  return existsSync(debian) ? debian : name;
}

/**
 * A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port in a temp dir, trust auth on
 * 127.0.0.1 only. PostgreSQL refuses to run as root, so as root the cluster belongs to the
 * `postgres` user (Debian's package creates it) and its commands run through runuser.
 */
export class Postgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string[],
  ) {}

  static async start(): Promise<Postgres> {
    const dir = mkdtempSync(join(tmpdir(), 'hall-edge-pg-'));
    const asUser: string[] = [];
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
      asUser.push('runuser', '-u', 'postgres', '--');
    }
    const data = join(dir, 'data');
    const pg = new Postgres(dir, await freePort(), asUser);
    pg.run(pgBin('initdb'), ['-D', data, '-U', 'hall', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    mkdirSync(join(dir, 'sock'), { recursive: true });
    if (asUser.length > 0) chownSync(join(dir, 'sock'), Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
    pg.run(pgBin('pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${pg.port} -k ${join(dir, 'sock')} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`, 'start']);
    return pg;
  }

  get url(): string {
    return `postgres://hall@127.0.0.1:${this.port}/postgres`;
  }

  stop(): void {
    try {
      this.run(pgBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private run(command: string, args: string[]): void {
    const [program, ...rest] = this.asUser.length > 0 ? [...this.asUser, command, ...args] : [command, ...args];
    const result = spawnSync(program!, rest, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr}${result.stdout}`);
  }
}
