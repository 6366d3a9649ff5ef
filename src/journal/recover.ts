import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { listBackups } from './backup.js';
import { copyJournal, readRowsTolerant, seqGaps, type RawRow } from './inspect.js';
import { migrate } from './schema.js';

export interface RecoverOptions {
  /** The damaged journal (may be missing or unreadable). */
  file: string;
  /** Where backups are kept; the newest one that reads cleanly is used. */
  backupsDir?: string;
  /** A specific backup instead of the newest. */
  backup?: string;
  /** The NEW file to write; refused if it exists. */
  out: string;
}

export interface RecoverReport {
  out: string;
  events: number;
  lastSeq: number;
  fromBackup?: { file: string; events: number; lastSeq: number };
  fromJournal: { events: number; badBodies: number; readErrors: string[]; method: string };
  gaps: Array<{ from: number; to: number }>;
  dailyStats: number;
}

/**
 * `hall-edge journal recover`: the readable events of the damaged journal (read around damaged
 * pages, or through SQLite's own `.recover` when the file cannot be opened at all) merged by seq
 * with the newest clean backup, written into a NEW journal file. The damaged file and the backups
 * are only read, through copies. Putting the result in place, and starting the daemon with
 * --accept-journal-loss if it is still behind the watermark, are the operator's steps.
 */
export function recoverJournal(options: RecoverOptions): RecoverReport {
  if (existsSync(options.out)) throw new Error(`${options.out} already exists: recover writes a NEW file and never overwrites one; name another --out`);
  const byseq = new Map<number, RawRow>();
  const stats = new Map<string, { saved_at: number; stats: string }>();

  let fromBackup: RecoverReport['fromBackup'];
  const backup = options.backup ?? newestCleanBackup(options.backupsDir);
  if (backup) {
    const read = readFile(backup);
    for (const row of read.rows) byseq.set(row.seq, row);
    for (const [day, value] of read.stats) stats.set(day, value);
    fromBackup = { file: backup, events: read.rows.length, lastSeq: read.rows[read.rows.length - 1]?.seq ?? 0 };
  }

  let fromJournal: RecoverReport['fromJournal'] = { events: 0, badBodies: 0, readErrors: ['the journal file does not exist'], method: 'none' };
  if (existsSync(options.file)) {
    const read = readFile(options.file);
    // The damaged journal is the newer source: its rows win where both have a seq.
    for (const row of read.rows) byseq.set(row.seq, row);
    for (const [day, value] of read.stats) stats.set(day, value);
    fromJournal = { events: read.rows.length, badBodies: read.badBodies.length, readErrors: read.readErrors, method: read.method };
  }

  const rows = [...byseq.values()].sort((a, b) => a.seq - b.seq);
  const db = new Database(options.out);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db, options.out);
    const insert = db.prepare<[number, string, number, string, string]>('INSERT INTO events (seq, day, at, type, body) VALUES (?, ?, ?, ?, ?)');
    const insertStats = db.prepare<[string, number, string]>('INSERT OR REPLACE INTO daily_stats (day, saved_at, stats) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const row of rows) insert.run(row.seq, row.day, row.at, row.type, row.body);
      for (const [day, value] of stats) insertStats.run(day, value.saved_at, value.stats);
    })();
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('recovered', ?)").run(
      JSON.stringify({ at: new Date().toISOString(), from: options.file, backup: fromBackup?.file ?? null }),
    );
  } finally {
    db.close();
  }
  return {
    out: options.out,
    events: rows.length,
    lastSeq: rows[rows.length - 1]?.seq ?? 0,
    fromBackup,
    fromJournal,
    gaps: seqGaps(rows).filter((g) => !g.recordedLoss).map(({ from, to }) => ({ from, to })),
    dailyStats: stats.size,
  };
}

function newestCleanBackup(dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  for (const candidate of listBackups(dir)) {
    try {
      const db = new Database(candidate.file, { readonly: true, fileMustExist: true });
      try {
        if (db.prepare('PRAGMA quick_check').pluck().get() === 'ok') return candidate.file;
      } finally {
        db.close();
      }
    } catch {
      // A damaged backup is skipped; an older one may be fine.
    }
  }
  return undefined;
}

interface FileRead {
  rows: RawRow[];
  badBodies: number[];
  readErrors: string[];
  stats: Map<string, { saved_at: number; stats: string }>;
  method: string;
}

/** Reads a journal through a copy; falls back to SQLite's `.recover` when it cannot be opened. */
function readFile(file: string): FileRead {
  const copy = copyJournal(file);
  try {
    try {
      return readDatabase(copy.file, 'read around damaged pages');
    } catch (err) {
      const recovered = join(copy.dir, 'recovered.db');
      try {
        const sql = execFileSync('sqlite3', [copy.file, '.recover'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
        execFileSync('sqlite3', [recovered], { input: sql, stdio: ['pipe', 'ignore', 'ignore'] });
        return readDatabase(recovered, "SQLite's .recover");
      } catch (recoverErr) {
        return { rows: [], badBodies: [], readErrors: [`cannot be opened (${(err as Error).message}) and SQLite's .recover did not help (${(recoverErr as Error).message.split('\n')[0]})`], stats: new Map(), method: 'none' };
      }
    }
  } finally {
    copy.dispose();
  }
}

function readDatabase(file: string, method: string): FileRead {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    const read = readRowsTolerant(db);
    const stats = new Map<string, { saved_at: number; stats: string }>();
    try {
      for (const row of db.prepare('SELECT day, saved_at, stats FROM daily_stats').all() as Array<{ day: string; saved_at: number; stats: string }>) {
        stats.set(row.day, { saved_at: row.saved_at, stats: row.stats });
      }
    } catch {
      // Statistics can be recomputed from the events.
    }
    return { ...read, stats, method };
  } finally {
    db.close();
  }
}
