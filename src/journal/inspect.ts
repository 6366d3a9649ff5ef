import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Shared by `hall-edge journal verify|recover`: they work on a COPY of the journal (and its WAL),
 * never on the file itself — opening a WAL database writes to it (recovery, checkpoint), and a
 * damaged file must stay exactly as the storage left it for whoever looks at it next.
 */
export interface JournalCopy {
  dir: string;
  file: string;
  hadWal: boolean;
  dispose(): void;
}

export function copyJournal(file: string): JournalCopy {
  const dir = mkdtempSync(join(tmpdir(), 'hall-edge-journal-'));
  const copy = join(dir, basename(file));
  copyFileSync(file, copy);
  const hadWal = existsSync(`${file}-wal`);
  if (hadWal) copyFileSync(`${file}-wal`, `${copy}-wal`);
  return { dir, file: copy, hadWal, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RawRow {
  seq: number;
  day: string;
  at: number;
  type: string;
  body: string;
}

/**
 * Every event row that can still be read, in seq order, stepping over damaged stretches: a read
 * that fails is retried past the point where it failed, further and further, so one bad page
 * costs the rows on it and not everything after it. Rows whose body is not valid JSON are
 * reported apart.
 */
export function readRowsTolerant(db: Database.Database): { rows: RawRow[]; badBodies: number[]; readErrors: string[] } {
  const rows: RawRow[] = [];
  const badBodies: number[] = [];
  const readErrors: string[] = [];
  let maxSeq = 0;
  try {
    maxSeq = (db.prepare('SELECT max(seq) FROM events').pluck().get() as number | null) ?? 0;
  } catch (err) {
    readErrors.push(`the end of the seq index cannot be read: ${(err as Error).message}`);
    maxSeq = Number.MAX_SAFE_INTEGER;
  }
  const page = db.prepare<[number]>('SELECT seq, day, at, type, body FROM events WHERE seq > ? ORDER BY seq LIMIT 500');
  let after = 0;
  let step = 1;
  while (after < maxSeq) {
    let chunk: RawRow[];
    try {
      chunk = page.all(after) as RawRow[];
    } catch (err) {
      if (readErrors.length < 20) readErrors.push(`rows after seq ${after}: ${(err as Error).message}`);
      if (maxSeq === Number.MAX_SAFE_INTEGER && step > 1 << 24) break;
      after += step;
      step *= 2;
      continue;
    }
    step = 1;
    if (chunk.length === 0) break;
    for (const row of chunk) {
      try {
        JSON.parse(row.body);
        rows.push(row);
      } catch {
        badBodies.push(row.seq);
      }
    }
    after = chunk[chunk.length - 1]!.seq;
  }
  return { rows, badBodies, readErrors };
}

/** Seq ranges missing between the rows, and whether a later journal.loss event accounts for each. */
export function seqGaps(rows: Array<Pick<RawRow, 'seq' | 'type' | 'body'>>): Array<{ from: number; to: number; recordedLoss: boolean }> {
  const gaps: Array<{ from: number; to: number; recordedLoss: boolean }> = [];
  let previous = 0;
  for (const row of rows) {
    if (row.seq > previous + 1) {
      let recordedLoss = false;
      if (row.type === 'journal.loss') {
        const lost = (JSON.parse(row.body) as { lostSeq?: { from: number; to: number } }).lostSeq;
        recordedLoss = lost !== undefined && lost.from <= previous + 1 && lost.to >= row.seq - 1;
      }
      gaps.push({ from: previous + 1, to: row.seq - 1, recordedLoss });
    }
    previous = row.seq;
  }
  return gaps;
}

/** The pid in the journal's meta `last_opened`, when that process still runs hall-edge. */
export function runningOwner(db: Database.Database): number | undefined {
  try {
    const value = db.prepare("SELECT value FROM meta WHERE key = 'last_opened'").pluck().get() as string | undefined;
    const pid = value ? (JSON.parse(value) as { pid?: number }).pid : undefined;
    if (!pid || pid === process.pid) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /hall-edge|main\.js/.test(cmdline) ? pid : undefined;
  } catch {
    return undefined;
  }
}
