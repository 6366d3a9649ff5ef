/**
 * Why a journal could not be opened, for the operator: each message names the file and says
 * what to do, because the daemon cannot start without its journal.
 */
export type JournalErrorCode = 'locked' | 'not-a-journal' | 'corrupt' | 'newer-version' | 'cannot-open' | 'closed' | 'bad-event';

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
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new JournalError(
      'locked',
      path,
      `journal ${path} is locked by another process (is another hall-edge daemon running on the same state directory?); stop it first`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_NOTADB') {
    return new JournalError('not-a-journal', path, `${path} is not a hall-edge journal (not an SQLite database: ${detail}); move it away or point stateDir elsewhere`, { cause: err });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new JournalError(
      'corrupt',
      path,
      `journal ${path} is corrupt (${detail}); keep a copy for analysis, then try \`sqlite3 ${path} .recover\` or move it away to start an empty journal`,
      { cause: err },
    );
  }
  return new JournalError('cannot-open', path, `cannot open journal ${path}: ${detail}`, { cause: err });
}
