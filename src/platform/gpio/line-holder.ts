import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';
import type { GpioOutput } from './gpio.js';

/** How long a holder may take to let go of the line after SIGTERM before it is killed. */
const RELEASE_GRACE_MS = 2000;

/**
 * A GPIO output line held by a child process (`gpioset` in hold mode) for as long as its value
 * should stay: the character-device interface keeps a line's value only while some process has
 * it requested, so a one-shot `gpioset` leaves the turnstile's relay to whatever the chip does
 * on release. A new value means a new holder (libgpiod v1 cannot change a held value), so the
 * old one is stopped first: the line is free for the few milliseconds in between.
 *
 * A holder that exits on its own (chip missing, line busy, tools removed) is logged and reported
 * through onLost, and the next write starts a new one.
 */
export class HeldGpioLine implements GpioOutput {
  private holder: ChildProcess | undefined;
  private value: boolean | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly lostHandlers = new Set<(reason: string) => void>();

  constructor(
    private readonly command: string,
    private readonly argsFor: (active: boolean) => string[],
    private readonly log: Logger,
  ) {}

  /** Resolves once a holder for `active` is running; rejects when the program cannot be started. */
  write(active: boolean): Promise<void> {
    const run = this.chain.then(() => this.hold(active));
    this.chain = run.catch(() => undefined);
    return run;
  }

  onLost(handler: (reason: string) => void): () => void {
    this.lostHandlers.add(handler);
    return () => this.lostHandlers.delete(handler);
  }

  close(): Promise<void> {
    this.closed = true;
    this.lostHandlers.clear();
    const run = this.chain.then(() => this.release());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async hold(active: boolean): Promise<void> {
    if (this.closed) throw new Error(`${this.command}: the GPIO line is closed`);
    if (this.holder && this.value === active) return; // already held at that value
    await this.release();
    const args = this.argsFor(active);
    const child = spawn(this.command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'ENOENT' ? `${this.command} is not installed (install the gpiod package)` : `cannot run ${this.command}: ${err.message}`)),
      );
    });
    this.holder = child;
    this.value = active;
    this.log.debug({ command: this.command, args, pid: child.pid }, 'GPIO line held');
    child.once('exit', (code, signal) => {
      if (this.holder !== child) return; // stopped by us
      this.holder = undefined;
      this.value = undefined;
      const reason = `${this.command} ${args.join(' ')} exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
      this.log.error({ command: this.command, args, code, signal, stderr: stderr.trim() }, 'GPIO line holder exited: the line is no longer held');
      for (const handler of this.lostHandlers) handler(reason);
    });
  }

  private async release(): Promise<void> {
    const child = this.holder;
    this.holder = undefined;
    this.value = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), RELEASE_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
