import { spawn } from 'node:child_process';

/** A child process that failed to run or exited badly, with what the operator needs to fix it. */
export class ProcessError extends Error {
  constructor(
    message: string,
    readonly code: 'missing' | 'exit' | 'timeout' | 'spawn',
  ) {
    super(message);
  }
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** Lets a caller kill a long child (aplay) when the driver stops. */
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs a program without a shell (arguments are never interpreted) and collects its output. */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
    const stdout: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ stdout: Buffer.concat(stdout), stderr });
    };
    const timer = options.timeoutMs
      ? setTimeout(() => {
          child.kill('SIGKILL');
          finish(new ProcessError(`${command} did not finish within ${options.timeoutMs} ms`, 'timeout'));
        }, options.timeoutMs)
      : undefined;
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') finish(new ProcessError(`${command} is not installed (not found on PATH)`, 'missing'));
      else finish(new ProcessError(`${command} could not run: ${err.message}`, 'spawn'));
    });
    child.on('close', (code, signal) => {
      if (code === 0) finish(undefined);
      else finish(new ProcessError(`${command} ${args.join(' ')} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${stderr.trim().slice(0, 300)}`, 'exit'));
    });
    // A child that exits before reading its input must not turn into an EPIPE crash.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
