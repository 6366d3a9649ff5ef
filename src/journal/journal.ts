import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../platform/logger.js';
import type { HallEvent, SequencedEvent } from '../queue/events.js';
import type { DayStats } from '../queue/stats.js';
import { JournalError, describeOpenError } from './errors.js';
import { migrate } from './schema.js';

export { JournalError } from './errors.js';

export interface JournalOptions {
  /**
   * How long to wait for another process to let go of the file before failing. Short: a second
   * daemon should fail fast and clearly, not hang.
   */
  lockTimeoutMs?: number;
}

/** readSince returns at most this many events unless asked for more: callers page with seq. */
export const DEFAULT_READ_LIMIT = 1000;

/**
 * Checkpoints (copying the WAL into the main file, then an fsync of it) are run when the journal
 * has been idle this long after at least IDLE_CHECKPOINT_AFTER_COMMITS commits, instead of inside
 * whichever commit happens to fill SQLite's 1,000-page WAL: that commit's command waited for the
 * copy and a second fsync before any of its outputs left — the call-next bench's slowest presses
 * (one checkpoint every ~170 commits there, ~2 per 200 presses: exactly its p99). The idle
 * checkpoint is PASSIVE and changes nothing about durability: every commit is fsynced in the WAL
 * before it returns, as before. SQLite's own checkpoint stays as the safety net for a journal that
 * is never idle, at WAL_AUTOCHECKPOINT_PAGES.
 */
export const IDLE_CHECKPOINT_MS = 50;
export const IDLE_CHECKPOINT_AFTER_COMMITS = 32;
export const WAL_AUTOCHECKPOINT_PAGES = 4000;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

type Row = [seq: number, body: string];

/**
 * The durable event log (SQLite in WAL mode, synchronous=FULL). `append` returns only once the
 * events are on the storage, so the caller may then show them to the world.
 *
 * One process owns the file: the connection runs in EXCLUSIVE locking mode and takes the lock
 * at open. The lock is a kernel file lock, so it dies with its process — a SIGKILLed daemon
 * leaves no stale lock, and SQLite recovers the WAL at the next open.
 */
export class Journal {
  private last: number;
  private lastDay: string | undefined;
  private isOpen = true;
  private commitsSinceCheckpoint = 0;
  private idleCheckpoint: NodeJS.Timeout | undefined;
  private checkpoints = 0;
  private readonly appendedListeners: Array<(events: SequencedEvent[]) => void> = [];
  /** Inside `batch`: events appended but not yet committed, announced when the batch commits. */
  private pendingAppended: SequencedEvent[] | undefined;
  private readonly insertBatch: (rows: Array<[number, string, number, string, string]>, alsoInTransaction?: () => void) => void;
  private readonly runInTransaction: (work: () => unknown) => unknown;
  private readonly stmts: {
    maxSeq: Database.Statement<[]>;
    lastDay: Database.Statement<[]>;
    byDay: Database.Statement<[string]>;
    lastOfType: Database.Statement<[string, string]>;
    since: Database.Statement<[number, number]>;
    days: Database.Statement<[]>;
    saveStats: Database.Statement<[string, number, string]>;
    loadStats: Database.Statement<[string]>;
  };

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly log: Logger,
  ) {
    const insert = db.prepare<[number, string, number, string, string]>('INSERT INTO events (seq, day, at, type, body) VALUES (?, ?, ?, ?, ?)');
    this.insertBatch = db.transaction((rows: Array<[number, string, number, string, string]>, alsoInTransaction?: () => void) => {
      for (const row of rows) insert.run(...row);
      alsoInTransaction?.();
    });
    // better-sqlite3 turns a transaction function called inside another into a savepoint.
    this.runInTransaction = db.transaction((work: () => unknown) => work());
    this.stmts = {
      maxSeq: db.prepare<[]>('SELECT coalesce(max(seq), 0) FROM events').pluck(),
      lastDay: db.prepare<[]>('SELECT day FROM events ORDER BY seq DESC LIMIT 1').pluck(),
      byDay: db.prepare<[string]>('SELECT seq, body FROM events WHERE day = ? ORDER BY seq').raw(),
      lastOfType: db.prepare<[string, string]>('SELECT seq, body FROM events WHERE day = ? AND type = ? ORDER BY seq DESC LIMIT 1').raw(),
      since: db.prepare<[number, number]>('SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?').raw(),
      // A skip-scan over the day index: one probe per day instead of a scan of every event.
      days: db
        .prepare<[]>(
          `WITH RECURSIVE d(day) AS (
             SELECT min(day) FROM events
             UNION ALL
             SELECT (SELECT min(day) FROM events WHERE day > d.day) FROM d WHERE d.day IS NOT NULL
           ) SELECT day FROM d WHERE day IS NOT NULL`,
        )
        .pluck(),
      saveStats: db.prepare<[string, number, string]>(
        'INSERT INTO daily_stats (day, saved_at, stats) VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE SET saved_at = excluded.saved_at, stats = excluded.stats',
      ),
      loadStats: db.prepare<[string]>('SELECT stats FROM daily_stats WHERE day = ?').pluck(),
    };
    this.last = this.stmts.maxSeq.get() as number;
    this.lastDay = this.stmts.lastDay.get() as string | undefined;
  }

  /**
   * Opens (creating if needed) the journal at `path`. Throws a JournalError naming the file when
   * it is not a journal, is corrupt, is newer than this program, or is held by another process.
   */
  static open(path: string, log: Logger, options: JournalOptions = {}): Journal {
    const started = Date.now();
    const file = resolve(path);
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      throw new JournalError('cannot-open', file, `cannot create the directory for journal ${file}: ${(err as Error).message}`, { cause: err });
    }
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: options.lockTimeoutMs ?? 1000 });
    } catch (err) {
      throw describeOpenError(file, err);
    }
    try {
      // Must come before the first access in WAL mode: then SQLite keeps no shared-memory
      // index (-shm) and holds the file lock for the life of the connection.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new JournalError('cannot-open', file, `journal ${file} could not be switched to WAL mode (got ${String(mode)})`);
      db.pragma('synchronous = FULL');
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      const migration = migrate(db, file);
      // No integrity_check here: it reads the whole file, and start-up must stay fast however
      // many past days are kept. Damage in the pages we touch still surfaces as SQLITE_CORRUPT.
      const journal = new Journal(db, file, log);
      log.info(
        { journal: file, lastSeq: journal.last, day: journal.lastDay, schemaFrom: migration.from, schemaTo: migration.to, ms: Date.now() - started },
        'journal opened',
      );
      return journal;
    } catch (err) {
      try {
        db.close();
      } catch {
        // Already failing; the open error is the one worth reporting.
      }
      throw describeOpenError(file, err);
    }
  }

  /**
   * Appends the events in ONE transaction and returns them with their seq. All-or-nothing: if any
   * event is malformed or the write fails, nothing is stored and seq does not move. Durable
   * (fsynced) when it returns — except inside `batch`, where it is durable when the batch returns.
   * `alsoInTransaction` writes more rows (a request's outcome, see request-outcomes.ts) in the
   * same SQLite transaction: they commit with the events or not at all.
   */
  append(events: HallEvent[], alsoInTransaction?: (sequenced: readonly SequencedEvent[]) => void): SequencedEvent[] {
    this.ensureOpen();
    if (events.length === 0) return [];
    const rows: Array<[number, string, number, string, string]> = [];
    const sequenced: SequencedEvent[] = [];
    events.forEach((event, index) => {
      const body = this.encode(event, index);
      const seq = this.last + 1 + index;
      rows.push([seq, event.day, event.at, event.type, body]);
      sequenced.push({ ...event, seq } as SequencedEvent);
    });
    try {
      this.insertBatch(rows, alsoInTransaction && (() => alsoInTransaction(sequenced)));
    } catch (err) {
      // The transaction was rolled back; re-read the tail in case the failure came after commit.
      this.resyncTail();
      throw err;
    }
    this.last += rows.length;
    this.lastDay = events[events.length - 1]!.day;
    // Inside a batch nothing is durable before the batch commits: the listeners (the watermark)
    // must not hear of these events before then, or a crash would leave them ahead of the file.
    if (this.pendingAppended) this.pendingAppended.push(...sequenced);
    else {
      this.committed();
      this.notifyAppended(sequenced);
    }
    return sequenced;
  }

  /** Opens a companion table (request outcomes) on the journal's own connection and file. */
  attach<T>(open: (db: Database.Database) => T): T {
    this.ensureOpen();
    return open(this.db);
  }

  /**
   * Called with every batch right after it is durable, before `append` returns (so before the
   * caller shows the events to anyone): the journal watermark is kept this way. A listener must
   * not throw; if it does, the error is logged and the append still counts.
   * Every path that writes events must end in `notifyAppended`.
   */
  onAppended(listener: (events: SequencedEvent[]) => void): () => void {
    this.appendedListeners.push(listener);
    return () => {
      const index = this.appendedListeners.indexOf(listener);
      if (index >= 0) this.appendedListeners.splice(index, 1);
    };
  }

  private notifyAppended(events: SequencedEvent[]): void {
    for (const listener of this.appendedListeners) {
      try {
        listener(events);
      } catch (err) {
        this.log.error({ err, journal: this.path }, 'a journal append listener failed');
      }
    }
  }

  /**
   * After a journal loss: the next event gets seq `seq + 1`, so seqs that were issued before the
   * loss (and that consumers may have seen) are never given to other events. Only moves forward.
   */
  skipTo(seq: number): void {
    this.ensureOpen();
    if (Number.isSafeInteger(seq) && seq > this.last) this.last = seq;
  }

  /** A small JSON value kept in the journal's meta table (losses not yet acknowledged ...). */
  getMeta<T>(key: string): T | undefined {
    this.ensureOpen();
    const value = this.db.prepare<[string]>('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as T;
    } catch {
      return undefined;
    }
  }

  setMeta(key: string, value: unknown): void {
    this.ensureOpen();
    if (value === undefined) this.db.prepare<[string]>('DELETE FROM meta WHERE key = ?').run(key);
    else this.db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  /**
   * An online copy of the journal into `destination` (SQLite's backup API: pages are copied a
   * slice at a time between other work, and writes made meanwhile through this connection are
   * carried into the copy).
   */
  async backupTo(destination: string): Promise<{ pages: number }> {
    this.ensureOpen();
    const result = await this.db.backup(destination, { progress: () => 256 });
    return { pages: result.totalPages };
  }

  /**
   * Group commit: runs `work` inside ONE transaction, so every `append` it makes is fsynced
   * together when it returns (one fsync for a whole burst of commands). Each `append` inside is a
   * savepoint of its own, still all-or-nothing: a refused batch rolls back alone and `work` goes
   * on. Nothing appended inside is durable until `batch` returns; if the final commit fails,
   * nothing of it is stored, seq is re-read from the file and the error is thrown.
   */
  batch<T>(work: () => T): T {
    this.ensureOpen();
    const outer = this.pendingAppended === undefined;
    if (outer) this.pendingAppended = [];
    let result: T;
    try {
      result = this.runInTransaction(work) as T;
    } catch (err) {
      if (outer) this.pendingAppended = undefined;
      this.resyncTail();
      throw err;
    }
    if (outer) {
      const committed = this.pendingAppended!;
      this.pendingAppended = undefined;
      this.committed();
      if (committed.length > 0) this.notifyAppended(committed);
    }
    return result;
  }

  lastSeq(): number {
    return this.last;
  }

  /** The day's events in seq order (index on day, so past days cost nothing). */
  readDay(day: string): SequencedEvent[] {
    this.ensureOpen();
    return this.readRows(() => this.stmts.byDay.all(day) as Row[]);
  }

  /** The day's last event of one type (the hall display's broadcast line after a restart). */
  lastOfType(day: string, type: string): SequencedEvent | undefined {
    this.ensureOpen();
    return this.readRows(() => this.stmts.lastOfType.all(day, type) as Row[])[0];
  }

  /** Events after `seq`, oldest first, at most `limit` (DEFAULT_READ_LIMIT) of them. */
  readSince(seq: number, limit = DEFAULT_READ_LIMIT): SequencedEvent[] {
    this.ensureOpen();
    if (!Number.isFinite(limit) || limit <= 0) return [];
    return this.readRows(() => this.stmts.since.all(seq, Math.floor(limit)) as Row[]);
  }

  /** Rows to events; a damaged page or body becomes a JournalError that names the file and the fix. */
  private readRows(query: () => Row[]): SequencedEvent[] {
    let rows: Row[];
    try {
      rows = query();
    } catch (err) {
      throw describeOpenError(this.path, err);
    }
    const events: SequencedEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      try {
        events[i] = decode(rows[i]!);
      } catch (err) {
        throw new JournalError(
          'corrupt',
          this.path,
          `journal ${this.path} is damaged: the event at seq ${rows[i]![0]} cannot be read (${(err as Error).message}); ` +
            `the storage changed bytes of the file. Run \`hall-edge journal verify\` for a full report and \`hall-edge journal recover\` to rebuild it into a new file`,
          { cause: err },
        );
      }
    }
    return events;
  }

  /** Days that have events, ascending. */
  days(): string[] {
    this.ensureOpen();
    return this.stmts.days.all() as string[];
  }

  /** The day of the last event: the day a restart resumes. */
  currentDay(): string | undefined {
    return this.lastDay;
  }

  /** Stores (or replaces) the compacted statistics of a finished day. */
  saveDailyStats(day: string, stats: DayStats): void {
    this.ensureOpen();
    if (!DAY_PATTERN.test(day)) throw new JournalError('bad-event', this.path, `daily statistics need a day as YYYY-MM-DD, got "${day}"`);
    this.stmts.saveStats.run(day, Date.now(), JSON.stringify(stats));
  }

  dailyStats(day: string): DayStats | undefined {
    this.ensureOpen();
    const json = this.stmts.loadStats.get(day) as string | undefined;
    if (json === undefined) return undefined;
    try {
      return JSON.parse(json) as DayStats;
    } catch (err) {
      // The events are still there: the caller can recompute, so this is not fatal.
      this.log.error({ err, day }, 'stored daily statistics are unreadable; recompute them from the events');
      return undefined;
    }
  }

  /**
   * Copies what the WAL holds into the main file now (PASSIVE: SQLite's own kind). Returns the
   * WAL's frames and how many were copied. The journal calls it itself once idle (see
   * IDLE_CHECKPOINT_MS).
   */
  checkpoint(): { walFrames: number; checkpointed: number } {
    this.ensureOpen();
    this.commitsSinceCheckpoint = 0;
    const [row] = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    this.checkpoints += 1;
    return { walFrames: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
  }

  /** Idle checkpoints run since open (health, tests). */
  idleCheckpoints(): number {
    return this.checkpoints;
  }

  /** After every commit: (re)arms the idle checkpoint once enough commits have gathered in the WAL. */
  private committed(): void {
    this.commitsSinceCheckpoint += 1;
    if (this.commitsSinceCheckpoint < IDLE_CHECKPOINT_AFTER_COMMITS) return;
    if (this.idleCheckpoint) {
      this.idleCheckpoint.refresh();
      return;
    }
    this.idleCheckpoint = setTimeout(() => {
      this.idleCheckpoint = undefined;
      if (!this.isOpen || this.pendingAppended) return;
      try {
        this.checkpoint();
      } catch (err) {
        // Nothing is lost: the commits are durable in the WAL, and SQLite checkpoints it later itself.
        this.log.warn({ err, journal: this.path }, 'idle journal checkpoint failed');
      }
    }, IDLE_CHECKPOINT_MS);
    this.idleCheckpoint.unref();
  }

  /** Checkpoints the WAL into the main file and lets go of the lock. Safe to call twice. */
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    if (this.idleCheckpoint) clearTimeout(this.idleCheckpoint);
    this.idleCheckpoint = undefined;
    this.db.close();
    this.log.info({ journal: this.path, lastSeq: this.last }, 'journal closed');
  }

  private encode(event: HallEvent, index: number): string {
    const problem = checkEvent(event);
    if (problem) throw new JournalError('bad-event', this.path, `event ${index} of the batch was refused (${problem}); nothing of the batch was written`);
    try {
      return JSON.stringify(event);
    } catch (err) {
      throw new JournalError('bad-event', this.path, `event ${index} (${event.type}) cannot be stored as JSON: ${(err as Error).message}; nothing of the batch was written`);
    }
  }

  private resyncTail(): void {
    try {
      this.last = this.stmts.maxSeq.get() as number;
      this.lastDay = this.stmts.lastDay.get() as string | undefined;
    } catch (err) {
      this.log.error({ err, journal: this.path }, 'could not re-read the journal tail after a failed append');
    }
  }

  private ensureOpen(): void {
    if (!this.isOpen) throw new JournalError('closed', this.path, `journal ${this.path} is closed`);
  }
}

function decode([seq, body]: Row): SequencedEvent {
  const event = JSON.parse(body) as SequencedEvent;
  event.seq = seq;
  return event;
}

/** What is wrong with an event's envelope, or undefined. The payload is the engine's business. */
function checkEvent(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return 'not an object';
  const { type, day, at } = event as Partial<HallEvent>;
  if (typeof type !== 'string' || type.length === 0) return 'no type';
  if (typeof day !== 'string' || !DAY_PATTERN.test(day)) return `${type}: day must be YYYY-MM-DD, got ${JSON.stringify(day)}`;
  if (typeof at !== 'number' || !Number.isFinite(at)) return `${type}: at must be epoch ms, got ${JSON.stringify(at)}`;
  return undefined;
}
