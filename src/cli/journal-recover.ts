import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { recoverJournal } from '../journal/recover.js';
import { verifyJournal } from '../journal/verify.js';
import { JOURNAL_PLACE_OPTIONS, journalPlace, parseJournalArgs } from './journal.js';

/** `hall-edge journal recover`: writes a NEW journal file and says how to put it in place. */
export async function journalRecoverCommand(args: string[]): Promise<number> {
  const parsed = parseJournalArgs(() => parseArgs({ args, options: { ...JOURNAL_PLACE_OPTIONS, out: { type: 'string' }, backup: { type: 'string' } }, strict: true }), 'recover');
  if (!parsed) return 2;
  const values = parsed.values as { config?: string; state?: string; file?: string; out?: string; backup?: string };
  const place = journalPlace(values, 'recover');
  if (typeof place === 'string') {
    process.stderr.write(`${place}\n`);
    return 2;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(values.out ?? join(dirname(place.file), `journal.recovered-${stamp}.db`));
  if (values.backup && !existsSync(values.backup)) {
    process.stderr.write(`hall-edge journal recover: backup ${values.backup} does not exist\n`);
    return 2;
  }
  let report;
  try {
    report = recoverJournal({ file: place.file, backupsDir: place.backupsDir, backup: values.backup ? resolve(values.backup) : undefined, out });
  } catch (err) {
    process.stderr.write(`hall-edge journal recover: ${(err as Error).message}\n`);
    return 1;
  }
  const lines = [
    `journal recover: wrote ${report.out}`,
    `  from the journal ${place.file}: ${report.fromJournal.events} events (${report.fromJournal.method})${report.fromJournal.badBodies ? `, ${report.fromJournal.badBodies} unreadable` : ''}`,
    ...report.fromJournal.readErrors.slice(0, 5).map((e) => `    could not read ${e}`),
    report.fromBackup ? `  from the backup ${report.fromBackup.file}: ${report.fromBackup.events} events up to seq ${report.fromBackup.lastSeq}` : `  no clean backup found in ${place.backupsDir}`,
    `  result: ${report.events} events, last seq ${report.lastSeq}, ${report.dailyStats} days of statistics`,
    report.gaps.length ? `  still missing: seq ${report.gaps.slice(0, 10).map((g) => (g.from === g.to ? g.from : `${g.from}..${g.to}`)).join(', ')}` : '  seq: continuous',
  ];
  const check = verifyJournal(report.out, place.watermarks);
  const behind = check.problems.find((p) => p.startsWith('journal is behind watermark'));
  lines.push(
    '',
    'to use it (with the daemon stopped):',
    `  mv ${place.file} ${place.file}.damaged-${stamp}; [ -e ${place.file}-wal ] && mv ${place.file}-wal ${place.file}.damaged-${stamp}-wal`,
    `  mv ${report.out} ${place.file}`,
    behind
      ? `  it is still behind the watermark (${behind.replace(/^journal is behind watermark [^:]+: /, '')}): start with --accept-journal-loss, which numbers above the watermark and records the loss`
      : '  then start the daemon as usual',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
