import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { createMqttClient } from '../../src/bus/client.js';

/** The built CLI, found from the project root whether this file runs from test/ or dist/test/. */
export const CLI = join(projectRoot(), 'dist/src/cli/main.js');

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'tsconfig.json')) === false) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('hall-edge project root not found');
    dir = parent;
  }
  return dir;
}

/** Test teardown: SIGKILLs a child that is still running and waits until it has exited. */
export async function killAndWait(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (scripts/test.sh does) before the system tests`);
}

export interface DaemonProcess {
  proc: ChildProcess;
  ports: { tcpPort: number; wsPort?: number };
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `hall-edge run` as a real child process and waits for its "running" log line. */
export async function startDaemonProcess(
  configFile: string,
  cwd: string,
  timeoutMs = 20_000,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
  /** Node's own flags, before the script (the benchmarks pass the systemd unit's, deployed-runtime.ts). */
  nodeArgs: string[] = [],
): Promise<DaemonProcess> {
  requireBuild();
  const proc = spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', configFile, ...extraArgs], {
    cwd,
    env: { ...process.env, HALL_EDGE_LOG_JSON: '1', NOTIFY_SOCKET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let buffer = '';
  const ports = await new Promise<DaemonProcess['ports']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; ports?: DaemonProcess['ports'] };
          if (entry.msg === 'hall-edge running' && entry.ports) {
            clearTimeout(timer);
            resolve(entry.ports);
          }
        } catch {
          // not a JSON line
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code ?? signal}) before it was running:\n${lines.join('\n')}`));
    });
  });
  return { proc, ports, lines, exited };
}

export async function connect(url: string, username: string, password: string): Promise<MqttClient> {
  const client = createMqttClient(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000, clientId: `test-${Math.random().toString(16).slice(2)}` });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed')));
  });
  return client;
}

/**
 * Sends requests on `bridge/request/<command>` and matches responses by transaction id.
 * Responses that never come (the daemon was killed) reject after `timeoutMs`.
 */
export class Requester {
  private seq = 0;
  private readonly pending = new Map<string, { resolve: (v: Response) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly client: MqttClient,
    private readonly base: string,
  ) {
    client.on('message', (topic, payload) => {
      if (!topic.startsWith(`${base}/bridge/response/`)) return;
      try {
        const response = JSON.parse(payload.toString()) as Response;
        const waiter = this.pending.get(String(response.transaction));
        if (!waiter) return;
        clearTimeout(waiter.timer);
        this.pending.delete(String(response.transaction));
        waiter.resolve(response);
      } catch {
        // ignore malformed
      }
    });
  }

  /** Rejects every request still waiting (its daemon is gone: no answer will come). */
  abandon(reason: string): void {
    for (const [transaction, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`no response to ${transaction}: ${reason}`));
    }
    this.pending.clear();
  }

  async ready(): Promise<void> {
    await this.client.subscribeAsync(`${this.base}/bridge/response/#`, { qos: 1 });
  }

  /** `transaction`: send this id instead of a fresh one (a resend). */
  request(command: string, payload: Record<string, unknown> = {}, timeoutMs = 5000, transaction = `t${++this.seq}-${Math.random().toString(16).slice(2, 8)}`): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new Error(`no response to ${command} (${transaction})`));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, timer });
      this.client.publish(`${this.base}/bridge/request/${command}`, JSON.stringify({ transaction, ...payload }), { qos: 1 });
    });
  }
}

export interface Response {
  transaction: string;
  status: 'ok' | 'error';
  data?: Record<string, unknown>;
  error?: string;
  code?: string;
}
