import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../platform/logger.js';
import type { Journal } from './journal.js';

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
  lastSeq: number;
  day: string | null;
  reason: string;
  /** Older backups removed to keep the configured count. */
  removed: string[];
}

export interface BackupOptions {
  dir: string;
  /** How many backups to keep (newest first); older ones are deleted after a successful backup. */
  keep: number;
  log: Logger;
}

const NAME = /^journal-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-seq\d+\.db$/;

/** Backups in `dir`, newest first (the names sort by time). */
export function listBackups(dir: string): Array<{ file: string; bytes: number; lastSeq: number }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => NAME.test(name))
    .sort()
    .reverse()
    .map((name) => ({ file: join(resolve(dir), name), bytes: statSync(join(dir, name)).size, lastSeq: Number(/-seq(\d+)\.db$/.exec(name)![1]) }));
}

/**
 * Online backups of the journal (SQLite's backup API, so the daemon keeps running and the copy
 * is a consistent snapshot). A backup is written under a temporary name, fsynced and renamed,
 * so a file with the final name is always complete. One at a time: asking while one runs gets
 * the running one.
 */
export class JournalBackups {
  private running: Promise<BackupResult> | undefined;
  readonly dir: string;

  constructor(
    private readonly journal: Journal,
    private readonly options: BackupOptions,
  ) {
    this.dir = resolve(options.dir);
  }

  run(reason: string): Promise<BackupResult> {
    this.running ??= this.backup(reason).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Waits for a running backup (at shutdown, before the journal closes). */
  async settle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async backup(reason: string): Promise<BackupResult> {
    const started = Date.now();
    const lastSeq = this.journal.lastSeq();
    const day = this.journal.currentDay() ?? null;
    mkdirSync(this.dir, { recursive: true });
    const name = `journal-${new Date().toISOString().replace(/:/g, '-').replace('.', '-')}-seq${lastSeq}.db`;
    const file = join(this.dir, name);
    const partial = `${file}.partial`;
    try {
      await this.journal.backupTo(partial);
      syncFile(partial);
      renameSync(partial, file);
      syncFile(this.dir);
    } catch (err) {
      rmSync(partial, { force: true });
      this.options.log.error({ err, dir: this.dir, reason }, `journal backup into ${this.dir} failed: ${(err as Error).message}`);
      throw err;
    }
    const removed: string[] = [];
    for (const old of listBackups(this.dir).slice(this.options.keep)) {
      try {
        rmSync(old.file);
        removed.push(old.file);
      } catch (err) {
        this.options.log.warn({ err, file: old.file }, 'could not remove an old journal backup');
      }
    }
    const result: BackupResult = { file, bytes: statSync(file).size, ms: Date.now() - started, lastSeq, day, reason, removed };
    this.options.log.info({ backup: file, bytes: result.bytes, ms: result.ms, lastSeq, reason, removed: removed.length }, 'journal backed up');
    return result;
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // Directories on some filesystems refuse fsync; the rename is then as durable as it gets.
  } finally {
    closeSync(fd);
  }
}
