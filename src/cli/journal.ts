import { join, resolve } from 'node:path';
import { JOURNAL_FILE, WATERMARK_FILE } from '../hall/journal-start.js';
import { loadConfigForCli } from './load-config.js';
import { journalVerifyCommand } from './journal-verify.js';
import { journalRecoverCommand } from './journal-recover.js';
import { journalExportCommand } from './journal-export.js';

const USAGE = `usage: hall-edge journal verify|recover|export (--config FILE | --state DIR | --file JOURNAL) [options]
  verify                       integrity check, seq continuity, agreement with the watermark;
                               exit 0 when all is well, 1 when a problem was found
  recover [--out FILE] [--backup FILE]
                               the readable events of the journal merged with the newest clean
                               backup, into a NEW file (never in place)
  export --day YYYY-MM-DD [--out FILE]
                               the day's events as JSON lines (the hall's full record of the day)
`;

/** Where a journal command finds the journal, its watermarks and its backups. */
export interface JournalPlace {
  file: string;
  watermarks: string[];
  backupsDir: string;
}

export const JOURNAL_PLACE_OPTIONS = {
  config: { type: 'string', short: 'c' },
  state: { type: 'string' },
  file: { type: 'string' },
} as const;

export function journalPlace(values: { config?: string; state?: string; file?: string }, command: string): JournalPlace | string {
  if (values.file) {
    const file = resolve(values.file);
    return { file, watermarks: [join(resolve(file, '..'), WATERMARK_FILE)], backupsDir: join(resolve(file, '..'), 'backups') };
  }
  if (values.state) {
    const dir = resolve(values.state);
    return { file: join(dir, JOURNAL_FILE), watermarks: [join(dir, WATERMARK_FILE)], backupsDir: join(dir, 'backups') };
  }
  if (values.config) {
    const config = loadConfigForCli(values.config);
    if (!config) return 'the config could not be loaded';
    return {
      file: join(config.stateDir, JOURNAL_FILE),
      watermarks: [join(config.stateDir, WATERMARK_FILE), ...(config.journal.watermarkMirror ? [config.journal.watermarkMirror] : [])],
      backupsDir: config.journal.backup.dir ?? join(config.stateDir, 'backups'),
    };
  }
  return `hall-edge journal ${command}: say which journal with --config FILE, --state DIR or --file JOURNAL`;
}

export async function journalCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'verify':
      return journalVerifyCommand(rest);
    case 'recover':
      return journalRecoverCommand(rest);
    case 'export':
      return journalExportCommand(rest);
    default:
      process.stderr.write(sub && sub !== '--help' ? `hall-edge journal: unknown subcommand "${sub}"\n${USAGE}` : USAGE);
      return sub === '--help' ? 0 : 2;
  }
}

/** Runs a parseArgs call, turning an unknown option into a usage message instead of a stack trace. */
export function parseJournalArgs<T>(parse: () => T, command: string): T | undefined {
  try {
    return parse();
  } catch (err) {
    process.stderr.write(`hall-edge journal ${command}: ${(err as Error).message}\n${USAGE}`);
    return undefined;
  }
}
