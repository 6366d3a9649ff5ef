import { parseArgs } from 'node:util';
import { formatVerifyReport, verifyJournal } from '../journal/verify.js';
import { JOURNAL_PLACE_OPTIONS, journalPlace, parseJournalArgs } from './journal.js';

/** `hall-edge journal verify`: exit 0 when the journal is sound, 1 when a problem was found. */
export async function journalVerifyCommand(args: string[]): Promise<number> {
  const parsed = parseJournalArgs(() => parseArgs({ args, options: { ...JOURNAL_PLACE_OPTIONS, json: { type: 'boolean', default: false } }, strict: true }), 'verify');
  if (!parsed) return 2;
  const place = journalPlace(parsed.values as { config?: string; state?: string; file?: string }, 'verify');
  if (typeof place === 'string') {
    process.stderr.write(`${place}\n`);
    return 2;
  }
  const report = verifyJournal(place.file, place.watermarks);
  process.stdout.write(parsed.values.json ? `${JSON.stringify(report)}\n` : formatVerifyReport(report));
  return report.ok ? 0 : 1;
}
