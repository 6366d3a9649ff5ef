import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real pseudo-terminal pair made by socat: what one side writes the other reads, through the
 * kernel's tty layer, so the real serialport bindings are exercised. Killing the pair is how
 * tests "unplug" a bus.
 */
export interface PtyPair {
  /** The end the software under test opens (the "host" side). */
  a: string;
  /** The end the simulator opens (the "device" side). */
  b: string;
  close(): Promise<void>;
}

export async function openPtyPair(dir = mkdtempSync(join(tmpdir(), 'hall-pty-'))): Promise<PtyPair> {
  const a = join(dir, 'host');
  const b = join(dir, 'device');
  const proc: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop'))) {
    if (proc.exitCode !== null) throw new Error(`socat exited (${proc.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`socat did not create the PTY pair in time: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    a,
    b,
    close: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
