import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The key that encrypts one business day's contacts, in a file of its own beside the journal
 * (never inside it): a copy of the journal — a backup, an export, a file sent for support —
 * holds only ciphertext. One key per day; at day end the file is replaced by nothing, and with
 * the key every stored copy of that day's contacts (journal pages, WAL, backups) becomes
 * unreadable: erasure that does not depend on SQLite overwriting freed pages.
 */
export interface DayKey {
  day: string;
  key: Buffer;
}

const KEY_BYTES = 32;

/** The key for `day`: the file's when it is that day's, otherwise a new one (written first). */
export function dayKey(file: string, day: string): { key: DayKey; created: boolean } {
  const stored = readKey(file);
  if (stored && stored.day === day) return { key: stored, created: false };
  const key: DayKey = { day, key: randomBytes(KEY_BYTES) };
  writeKey(file, key);
  return { key, created: true };
}

/** The key in the file, or undefined when there is none (or it is not a key file). */
export function readKey(file: string): DayKey | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { day?: unknown; key?: unknown };
    if (typeof parsed.day !== 'string' || typeof parsed.key !== 'string') return undefined;
    const key = Buffer.from(parsed.key, 'base64');
    return key.length === KEY_BYTES ? { day: parsed.day, key } : undefined;
  } catch {
    return undefined;
  }
}

/** Destroys the key: what it encrypted can no longer be read by anyone. */
export function destroyKey(file: string): void {
  rmSync(file, { force: true });
}

/** Written beside, fsynced, then renamed over: a power cut leaves the old key or the new, never half. */
function writeKey(file: string, key: DayKey): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ v: 1, day: key.day, key: key.key.toString('base64') }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}
