import { accessSync, constants, statfsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';

/**
 * Why a journal could not be opened, for the operator: each message names the file and says
 * what to do, because the daemon cannot start without its journal.
 */
export type JournalErrorCode =
  | 'locked'
  | 'not-a-journal'
  | 'corrupt'
  | 'newer-version'
  | 'cannot-open'
  | 'read-only'
  | 'disk-full'
  | 'io-error'
  | 'behind-watermark'
  | 'closed'
  | 'bad-event';

export class JournalError extends Error {
  constructor(
    readonly code: JournalErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JournalError';
  }
}

/** Turns what SQLite threw while opening `path` into a JournalError an operator can act on. */
export function describeOpenError(path: string, err: unknown): JournalError {
  if (err instanceof JournalError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const detail = err instanceof Error ? err.message : String(err);
  // SQLite says "disk I/O error" or "unable to open" for several causes; the directory tells which.
  const place = storageProblem(path);
  if (place === 'read-only' || code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES') {
    const dir = dirname(path);
    return new JournalError(
      'read-only',
      path,
      `journal ${path} cannot be written: the directory ${dir} is read-only for this user (${userName()}) — the filesystem may have been remounted read-only after storage errors (see \`dmesg\`), or the permissions are wrong. ` +
        `Fix with \`mount -o remount,rw <mount point>\` (after checking the card/disk) or \`chown -R ${userName()} ${dir}\` (SQLite said: ${detail})`,
      { cause: err },
    );
  }
  if (place === 'full' || code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new JournalError(
      'disk-full',
      path,
      `journal ${path} cannot be written: the disk holding ${dirname(path)} is full. Free space (old logs, old journal backups) and start again — \`df -h ${dirname(path)}\` shows it (SQLite said: ${detail})`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new JournalError(
      'locked',
      path,
      `journal ${path} is locked by another process (is another hall-edge daemon running on the same state directory?); stop it first`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_NOTADB') {
    return new JournalError(
      'not-a-journal',
      path,
      `${path} is not a hall-edge journal (not an SQLite database: ${detail}): either its header is damaged or another file was put there. If it was the journal, \`hall-edge journal recover\` rebuilds it into a new file from the newest backup; otherwise move it away or point stateDir elsewhere`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new JournalError(
      'corrupt',
      path,
      `journal ${path} is damaged: a damaged page (SQLite: ${detail}). Keep the file as it is; \`hall-edge journal verify\` reports what is readable and \`hall-edge journal recover\` rebuilds it into a new file from what is readable and the newest backup (the watermark keeps numbering above what was issued)`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new JournalError(
      'io-error',
      path,
      `journal ${path} cannot be read or written: the storage reported an I/O error (${detail}; SQLite code ${code}). The card or disk may be failing: check \`dmesg\`, then run \`hall-edge journal verify\` and, if it reports damage, \`hall-edge journal recover\``,
      { cause: err },
    );
  }
  return new JournalError('cannot-open', path, `cannot open journal ${path}: ${detail}`, { cause: err });
}

/**
 * Probes the journal's directory after a failure: SQLite's own message ("disk I/O error",
 * "unable to open database file") does not say that the directory is read-only or the disk full.
 */
export function storageProblem(path: string): 'read-only' | 'full' | undefined {
  const dir = dirname(path);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'read-only';
    return undefined;
  }
  try {
    const fs = statfsSync(dir);
    if (fs.bavail === 0 || (fs.bavail * fs.bsize < 64 * 1024 && process.getuid?.() !== 0)) return 'full';
    if (fs.bfree === 0) return 'full';
  } catch {
    // statfs is a hint only.
  }
  return undefined;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
