import type Database from 'better-sqlite3';

/**
 * What a request ended with, kept so that a resend of the same `(user, transaction)` gets the
 * first answer instead of a second execution (a second ticket). Rows live in the journal's
 * SQLite file and are written inside the same SQLite transaction as the events the request
 * produced (Journal.append's hook): after a power cut or kill -9 either both the events and the
 * outcome are there, or neither is — a resend can never find the ticket without its answer.
 *
 * Kept for one business day: the key includes the day, and days before the current one are
 * pruned at rollover (a transaction id only has to be unique per user and day).
 */
export interface OutcomeKey {
  /** The business day the request was executed in (YYYY-MM-DD). */
  day: string;
  /** Who asked: the MQTT username. */
  principal: string;
  /** The caller's transaction id, as sent (a string or a number; "1" and 1 are different ids). */
  transaction: string | number;
}

export interface StoredOutcome {
  /** The request that ran under this transaction (a resend for another command is refused). */
  command: string;
  /** The answer, in whatever shape the request's handler stores (JSON). */
  outcome: unknown;
}

export class RequestOutcomes {
  private readonly stmts: {
    find: Database.Statement<[string, string, string]>;
    write: Database.Statement<[string, string, string, string, number, string]>;
    prune: Database.Statement<[string]>;
    count: Database.Statement<[]>;
  };

  /** `db` is the journal's connection (Journal.attach): the table lives in the journal file. */
  constructor(db: Database.Database) {
    // Created here rather than as a numbered journal migration: the table is additive, and an
    // older hall-edge opening the file simply ignores it.
    db.exec(`CREATE TABLE IF NOT EXISTS request_outcomes (
      day       TEXT    NOT NULL,
      principal TEXT    NOT NULL,
      txn       TEXT    NOT NULL,
      command   TEXT    NOT NULL,
      at        INTEGER NOT NULL,
      outcome   TEXT    NOT NULL,
      PRIMARY KEY (day, principal, txn)
    ) WITHOUT ROWID`);
    this.stmts = {
      find: db.prepare<[string, string, string]>('SELECT command, outcome FROM request_outcomes WHERE day = ? AND principal = ? AND txn = ?').raw(),
      // REPLACE: a dispenser records "issued A001" with the ticket, then "print failed, A001
      // voided" with the void — the later outcome of the same request is the one to give.
      write: db.prepare<[string, string, string, string, number, string]>(
        'INSERT INTO request_outcomes (day, principal, txn, command, at, outcome) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, principal, txn) DO UPDATE SET command = excluded.command, at = excluded.at, outcome = excluded.outcome',
      ),
      prune: db.prepare<[string]>('DELETE FROM request_outcomes WHERE day < ?'),
      count: db.prepare<[]>('SELECT count(*) FROM request_outcomes').pluck(),
    };
  }

  find(key: OutcomeKey): StoredOutcome | undefined {
    const row = this.stmts.find.get(key.day, key.principal, transactionText(key.transaction)) as [string, string] | undefined;
    if (!row) return undefined;
    return { command: row[0], outcome: JSON.parse(row[1]) as unknown };
  }

  /**
   * Stores (or replaces) an outcome. Called inside Journal.append's transaction it commits with
   * the events; called alone it is its own (fsynced) transaction.
   */
  write(key: OutcomeKey, command: string, outcome: unknown, at: number): void {
    this.stmts.write.run(key.day, key.principal, transactionText(key.transaction), command, at, JSON.stringify(outcome ?? null));
  }

  /** Forgets the outcomes of days before `day`; returns how many were dropped. */
  pruneBefore(day: string): number {
    return this.stmts.prune.run(day).changes;
  }

  size(): number {
    return this.stmts.count.get() as number;
  }
}

/** JSON keeps the type: transaction "1" and transaction 1 are two different ids. */
function transactionText(transaction: string | number): string {
  return JSON.stringify(transaction);
}
