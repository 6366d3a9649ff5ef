import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { NoticeProgress } from '../queue/notice-plan.js';
import { dayKey, destroyKey, readKey, type DayKey } from './contact-key.js';

export interface StoredContact {
  number: string;
  contact: string;
  progress: NoticeProgress;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Visitors' contacts, kept across a restart in the journal's file — encrypted (AES-256-GCM, a
 * fresh nonce per row, the day and ticket number bound in as associated data) with the day's
 * key from contact-key.ts, which lives outside the journal. What was already sent to each
 * ticket (`progress`: thresholds, called, recalls) is kept in clear beside it: it is not
 * personal, and a restart must not send a notice twice.
 */
export class ContactVault {
  private key: DayKey | undefined;
  private readonly stmts: {
    put: Database.Statement<[string, string, Buffer, string]>;
    progress: Database.Statement<[string, string, string]>;
    remove: Database.Statement<[string, string]>;
    all: Database.Statement<[]>;
    eraseAll: Database.Statement<[]>;
    count: Database.Statement<[]>;
  };

  /** `db` is the journal's connection (Journal.attach). */
  constructor(
    db: Database.Database,
    private readonly keyFile: string,
  ) {
    // Additive, like request_outcomes: an older hall-edge opening the file ignores it.
    db.exec(`CREATE TABLE IF NOT EXISTS notify_contacts (
      day      TEXT NOT NULL,
      number   TEXT NOT NULL,
      sealed   BLOB NOT NULL,
      progress TEXT NOT NULL,
      PRIMARY KEY (day, number)
    ) WITHOUT ROWID`);
    this.stmts = {
      put: db.prepare('INSERT INTO notify_contacts (day, number, sealed, progress) VALUES (?, ?, ?, ?) ON CONFLICT (day, number) DO UPDATE SET sealed = excluded.sealed, progress = excluded.progress'),
      progress: db.prepare('UPDATE notify_contacts SET progress = ? WHERE day = ? AND number = ?'),
      remove: db.prepare('DELETE FROM notify_contacts WHERE day = ? AND number = ?'),
      all: db.prepare('SELECT day, number, sealed, progress FROM notify_contacts'),
      eraseAll: db.prepare('DELETE FROM notify_contacts'),
      count: db.prepare<[]>('SELECT count(*) FROM notify_contacts').pluck(),
    };
  }

  /**
   * The contacts stored for `day`, after a restart. Rows of other days, and rows the key cannot
   * open (the key file was lost or replaced), are deleted: `unreadable` says how many.
   */
  load(day: string): { contacts: StoredContact[]; unreadable: number; otherDays: number } {
    const key = readKey(this.keyFile);
    this.key = key?.day === day ? key : undefined;
    // A key of another day (the daemon was down at day end) protects nothing that is still wanted.
    if (key && !this.key) destroyKey(this.keyFile);
    const contacts: StoredContact[] = [];
    let unreadable = 0;
    let otherDays = 0;
    for (const row of this.stmts.all.all() as Array<{ day: string; number: string; sealed: Buffer; progress: string }>) {
      if (row.day !== day) {
        otherDays += 1;
        this.stmts.remove.run(row.day, row.number);
        continue;
      }
      const contact = this.key ? open(this.key.key, row.sealed, aad(row.day, row.number)) : undefined;
      if (contact === undefined) {
        unreadable += 1;
        this.stmts.remove.run(row.day, row.number);
        continue;
      }
      contacts.push({ number: row.number, contact, progress: JSON.parse(row.progress) as NoticeProgress });
    }
    return { contacts, unreadable, otherDays };
  }

  put(day: string, number: string, contact: string, progress: NoticeProgress): void {
    if (this.key?.day !== day) this.key = dayKey(this.keyFile, day).key;
    this.stmts.put.run(day, number, seal(this.key.key, contact, aad(day, number)), JSON.stringify(progress));
  }

  setProgress(day: string, number: string, progress: NoticeProgress): void {
    this.stmts.progress.run(JSON.stringify(progress), day, number);
  }

  remove(day: string, number: string): void {
    this.stmts.remove.run(day, number);
  }

  /** Day end: every row deleted and the key destroyed (so no copy anywhere can be opened). */
  eraseAll(): number {
    const erased = this.stmts.eraseAll.run().changes;
    this.key = undefined;
    destroyKey(this.keyFile);
    return erased;
  }

  size(): number {
    return this.stmts.count.get() as number;
  }
}

function aad(day: string, number: string): Buffer {
  return Buffer.from(`${day}/${number}`, 'utf8');
}

function seal(key: Buffer, plain: string, associated: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associated);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, associated: Buffer): string | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(associated);
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
