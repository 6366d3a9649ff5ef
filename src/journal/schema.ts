import type Database from 'better-sqlite3';
import { JournalError } from './errors.js';

/** "HALL" in ASCII: marks the SQLite file as ours, so a stray database is not taken for a journal. */
export const APPLICATION_ID = 0x48414c4c;
export const SCHEMA_VERSION = 1;

/**
 * Migrations by `user_version`: entry i takes the schema from version i to i+1. Add new ones at
 * the end; never edit one that has shipped.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    day  TEXT    NOT NULL,
    at   INTEGER NOT NULL,
    type TEXT    NOT NULL,
    body TEXT    NOT NULL
  );
  -- readDay and the day list walk this index, so their cost does not grow with past days.
  CREATE INDEX events_by_day ON events (day, seq);
  CREATE TABLE daily_stats (
    day      TEXT PRIMARY KEY,
    saved_at INTEGER NOT NULL,
    stats    TEXT NOT NULL
  );
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
];

/** Brings the file to SCHEMA_VERSION in one transaction, or throws a JournalError saying why not. */
export function migrate(db: Database.Database, path: string): { from: number; to: number } {
  const run = db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
      if ((appId !== 0 && appId !== APPLICATION_ID) || tables > 0) {
        throw new JournalError('not-a-journal', path, `${path} is an SQLite database but not a hall-edge journal; move it away or point stateDir elsewhere`);
      }
    } else if (appId !== APPLICATION_ID) {
      throw new JournalError('not-a-journal', path, `${path} is an SQLite database but not a hall-edge journal (application_id ${appId}); move it away or point stateDir elsewhere`);
    } else if (version > SCHEMA_VERSION) {
      throw new JournalError(
        'newer-version',
        path,
        `journal ${path} was written by a newer hall-edge (schema ${version}, this one knows up to ${SCHEMA_VERSION}); upgrade hall-edge`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version < SCHEMA_VERSION) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    // A write on every open: it takes the exclusive lock now rather than at the first event.
    db.prepare("INSERT INTO meta (key, value) VALUES ('last_opened', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
      JSON.stringify({ pid: process.pid, at: new Date().toISOString() }),
    );
    return { from: version, to: SCHEMA_VERSION };
  });
  return run.immediate();
}
