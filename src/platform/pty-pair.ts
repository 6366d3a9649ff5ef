import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

/**
 * Opens a pair at `dir`/host and `dir`/device. Without `dir`, a temporary directory is made and
 * removed again by close(); pass a directory of your own to reopen a pair at the same paths
 * after closing it (an adapter unplugged and plugged back).
 */
export async function openPtyPair(ownDir?: string): Promise<PtyPair> {
  const dir = ownDir ?? mkdtempSync(join(tmpdir(), 'hall-pty-'));
  const a = join(dir, 'host');
  const b = join(dir, 'device');
  const proc: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop'))) {
    const failure =
      proc.exitCode !== null ? `socat exited (${proc.exitCode}): ${stderr}` : Date.now() > deadline ? `socat did not create the PTY pair in time: ${stderr}` : undefined;
    if (failure !== undefined) {
      proc.kill('SIGKILL');
      if (ownDir === undefined) rmSync(dir, { recursive: true, force: true });
      throw new Error(failure);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    a,
    b,
    close: async () => {
      await new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
      if (ownDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
