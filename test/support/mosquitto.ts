import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

export interface MosquittoUser {
  username: string;
  password: string;
}

export interface MosquittoOptions {
  /** Config, password file, ACL and persistence go here. */
  dir: string;
  users: MosquittoUser[];
  /** The ACL file's text (`user`/`topic`/`pattern` lines). */
  acl: string;
  /** Keep sessions and retained messages across restarts (written on exit and every second). */
  persistence?: boolean;
  /** A TLS listener instead of plain TCP (PEM files). */
  tls?: { certfile: string; keyfile: string };
  /** A port chosen by the caller (e.g. one a client is already trying); a free one otherwise. */
  port?: number;
}

/**
 * A real Mosquitto (Debian's package) on a free port with a password file and an ACL, as a city
 * would run it. `kill` and `start` again keep the port, the users and the persistence file, so a
 * test can take the central broker away and bring it back.
 */
export class Mosquitto {
  private proc: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly conf: string,
    private readonly scheme: 'mqtt' | 'mqtts',
  ) {}

  static async start(options: MosquittoOptions): Promise<Mosquitto> {
    mkdirSync(options.dir, { recursive: true });
    const port = options.port ?? (await freePort());
    const passwords = join(options.dir, 'passwd');
    writeFileSync(passwords, '', { mode: 0o600 });
    for (const user of options.users) {
      const made = spawnSync('mosquitto_passwd', ['-b', passwords, user.username, user.password], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
    }
    const acl = join(options.dir, 'acl');
    writeFileSync(acl, options.acl, { mode: 0o600 });
    const conf = join(options.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        // As root, Mosquitto would switch to the "mosquitto" user, who cannot read the test's
        // private temp dir; it keeps the user that started it this way.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'allow_anonymous false',
        ...(options.tls ? [`certfile ${options.tls.certfile}`, `keyfile ${options.tls.keyfile}`] : []),
        `password_file ${passwords}`,
        `acl_file ${acl}`,
        `persistence ${options.persistence ? 'true' : 'false'}`,
        `persistence_location ${options.dir}/`,
        'autosave_interval 1',
        'max_queued_messages 100000',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        '',
      ].join('\n'),
    );
    const mosquitto = new Mosquitto(port, conf, options.tls ? 'mqtts' : 'mqtt');
    await mosquitto.start();
    return mosquitto;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('mosquitto is already running');
    const mark = this.output.length;
    const proc = spawn('mosquitto', ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await eventually(() => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}):\n${this.output.slice(mark)}`);
      return /mosquitto version \S+ running/.test(this.output.slice(mark));
    }, `mosquitto listening on ${this.port}`, 10_000);
  }

  /** SIGKILL by default: the central broker dies without saving anything since its last autosave. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }
}
