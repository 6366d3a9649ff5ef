import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { silentLogger } from '../../src/platform/logger.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BATCH = 3;

/**
 * The child: appends batches of BATCH events as fast as it can and prints each batch's last
 * seq only after append returned — those are the acknowledged events a power cut must not lose.
 */
const CHILD_SOURCE = `
import { Journal } from '../../src/journal/journal.js';
const quiet = { info() {}, error() {}, warn() {}, debug() {} };
const journal = Journal.open(process.argv[2], quiet);
let n = journal.lastSeq();
for (;;) {
  const batch = [];
  for (let i = 0; i < ${BATCH}; i++) {
    n += 1;
    batch.push({ type: 'device.test.tick', at: Date.now(), day: '2026-11-23', deviceId: 'child', data: { n } });
  }
  const done = journal.append(batch);
  process.stdout.write('ack ' + done[done.length - 1].seq + '\\n');
}
`;

describe('Journal after a SIGKILL mid-append', () => {
  let dir: string;
  let childScript: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'journal-crash-'));
    childScript = join(dir, 'child.cjs');
    // Bundled to plain JS so the child is a bare `node` process (no test runner in the way).
    await build({
      stdin: { contents: CHILD_SOURCE, resolveDir: HERE, loader: 'ts', sourcefile: 'journal-crash-child.ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['better-sqlite3'],
      outfile: childScript,
      logLevel: 'silent',
    });
  });

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the child until it has acknowledged `atLeast` seqs, SIGKILLs it, returns the highest ack. */
  async function appendThenKill(path: string, atLeast: number): Promise<number> {
    const proc = spawn(process.execPath, [childScript, path], {
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let acked = 0;
    let stderr = '';
    let buffer = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          const match = /^ack (\d+)$/.exec(line);
          if (match) acked = Math.max(acked, Number(match[1]));
        }
        if (acked >= atLeast) {
          proc.kill('SIGKILL'); // mid-loop: the child is in or between appends right now
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`child exited before ${atLeast} acks: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');
    return acked;
  }

  it('keeps every acknowledged event, whole batches only, seqs gap-free, and reopens without a stale lock', async () => {
    const path = join(dir, 'journal.db');
    let highestAck = 0;
    for (const round of [1, 2]) {
      const acked = await appendThenKill(path, highestAck + 150);
      expect(acked).toBeGreaterThan(highestAck);
      highestAck = acked;

      const journal = Journal.open(path, silentLogger(), { lockTimeoutMs: 0 });
      try {
        const last = journal.lastSeq();
        expect(last, `round ${round}`).toBeGreaterThanOrEqual(highestAck);
        expect(last % BATCH, 'a batch was torn').toBe(0);
        const seqs: number[] = [];
        for (let after = 0; ; ) {
          const page = journal.readSince(after, 5000);
          if (page.length === 0) break;
          for (const event of page) {
            seqs.push(event.seq);
            // The payload travelled with its seq: nothing was reordered or mixed up.
            expect(event.type === 'device.test.tick' && event.data.n).toBe(event.seq);
          }
          after = page[page.length - 1]!.seq;
        }
        expect(seqs.length).toBe(last);
        expect(seqs.every((seq, i) => seq === i + 1)).toBe(true);
      } finally {
        journal.close();
      }
    }
  });
});
