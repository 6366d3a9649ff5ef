import { parseArgs } from 'node:util';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Journal, JournalError } from '../journal/journal.js';
import { silentLogger } from '../platform/logger.js';
import { JOURNAL_PLACE_OPTIONS, journalPlace, parseJournalArgs } from './journal.js';

/** `hall-edge journal export --day D`: the day's events, one JSON object per line, in seq order. */
export async function journalExportCommand(args: string[]): Promise<number> {
  const parsed = parseJournalArgs(() => parseArgs({ args, options: { ...JOURNAL_PLACE_OPTIONS, day: { type: 'string' }, out: { type: 'string' } }, strict: true }), 'export');
  if (!parsed) return 2;
  const values = parsed.values as { config?: string; state?: string; file?: string; day?: string; out?: string };
  if (!values.day || !/^\d{4}-\d{2}-\d{2}$/.test(values.day)) {
    process.stderr.write(`hall-edge journal export: --day YYYY-MM-DD is required${values.day ? ` (got "${values.day}")` : ''}\n`);
    return 2;
  }
  const place = journalPlace(values, 'export');
  if (typeof place === 'string') {
    process.stderr.write(`${place}\n`);
    return 2;
  }
  let journal: Journal;
  try {
    journal = Journal.open(place.file, silentLogger(), { lockTimeoutMs: 200 });
  } catch (err) {
    const hint = err instanceof JournalError && err.code === 'locked' ? ' (export from the newest backup with --file, or stop the daemon)' : '';
    process.stderr.write(`hall-edge journal export: ${(err as Error).message}${hint}\n`);
    return 1;
  }
  try {
    const events = journal.readDay(values.day);
    if (events.length === 0) {
      process.stderr.write(`hall-edge journal export: no events on ${values.day} in ${place.file}\n`);
      return 1;
    }
    const out = values.out ? createWriteStream(values.out) : process.stdout;
    for (const event of events) {
      if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
    }
    if (values.out) {
      (out as ReturnType<typeof createWriteStream>).end();
      await once(out, 'finish');
      process.stderr.write(`exported ${events.length} events of ${values.day} to ${values.out}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`hall-edge journal export: ${(err as Error).message}\n`);
    return 1;
  } finally {
    journal.close();
  }
}
