import { join } from 'node:path';
import { Journal, JournalError } from '../journal/journal.js';
import { assessLoss, chooseWatermark, describeLoss, type JournalLoss, type WatermarkCheck } from '../journal/loss.js';
import { readWatermark, WatermarkWriter } from '../journal/watermark.js';
import type { Logger } from '../platform/logger.js';
import type { Hall } from './hall.js';
import type { JournalAlarms } from './journal-alarms.js';

export interface JournalStartOptions {
  stateDir: string;
  /** A second watermark on another medium (config `journal.watermarkMirror`). */
  mirror?: string;
  /** `--accept-journal-loss` or config `journal.acceptLoss`: continue above the watermark. */
  acceptLoss: boolean;
  /** How this daemon was started, for the commands a refusal suggests ("hall-edge run --config hall.yaml"). */
  invocation?: string;
  log: Logger;
}

export const JOURNAL_FILE = 'journal.db';
export const WATERMARK_FILE = 'journal.watermark';

/** The journal, opened and compared with its watermark, before anything is replayed. */
export interface CheckedJournal {
  journal: Journal;
  watermarkPath: string;
  check: WatermarkCheck;
  /** Set when the journal is behind its watermark and the loss was accepted. */
  loss?: JournalLoss;
  /** The watermark was damaged and the journal empty: what was issued before cannot be known. */
  unknownLoss?: string;
}

/**
 * Opens the journal and compares it with its watermark (the primary next to it and the mirror,
 * whichever is further ahead). A journal behind its watermark has lost events that were already
 * acknowledged; unless the loss is accepted this throws a JournalError ('behind-watermark') that
 * says which file, what is missing and which command continues. When it is accepted, the
 * journal's seq is moved above the lost seqs here, before replay, so that no event written from
 * now on — not even the day rollover — takes a seq someone may already have seen.
 */
export function openCheckedJournal(options: JournalStartOptions): CheckedJournal {
  const journalPath = join(options.stateDir, JOURNAL_FILE);
  const watermarkPath = join(options.stateDir, WATERMARK_FILE);
  const journal = Journal.open(journalPath, options.log.child({ component: 'journal' }));
  try {
    const check = chooseWatermark([readWatermark(watermarkPath), ...(options.mirror ? [readWatermark(options.mirror)] : [])]);
    for (const damaged of check.damaged) {
      options.log.error({ watermark: damaged.file, problem: damaged.problem }, `journal watermark ${damaged.file} is damaged and is not trusted: ${damaged.problem}`);
    }
    for (const file of check.damagedSlots) options.log.warn({ watermark: file }, `one of the two copies inside watermark ${file} was unreadable (a write cut short); the other is used`);
    const invocation = options.invocation ?? 'hall-edge run --config <your hall.yaml>';
    const tools = invocation.replace(/^hall-edge (run|demo)\b/, 'hall-edge journal verify');
    if (check.record) {
      const loss = assessLoss(journal, check.record, check.file!);
      if (loss) {
        if (!options.acceptLoss) {
          throw new JournalError(
            'behind-watermark',
            journal.path,
            `journal ${journal.path} is behind its watermark ${check.file}: the journal ends at seq ${loss.lostSeq.from - 1}, but ${describeLoss(loss)} had been written and are no longer in it ` +
              `(the file was emptied, cut short, damaged by the storage, or replaced by an older copy). Starting now would issue those numbers again, so hall-edge refuses to start. ` +
              `See what is there: \`${tools}\`; rebuild from a backup or the damaged file into a new file: \`${tools.replace(' verify', ' recover')}\`; ` +
              `or continue numbering above the watermark (the loss is recorded in the journal and a critical alarm stays until an admin acknowledges it): \`${invocation} --accept-journal-loss\``,
          );
        }
        journal.skipTo(loss.lostSeq.to);
        options.log.error({ journal: journal.path, watermark: check.file, lostSeq: loss.lostSeq, lostTickets: loss.lostTickets }, `journal loss accepted: ${describeLoss(loss)}; numbering continues above the watermark`);
        return { journal, watermarkPath, check, loss };
      }
    } else if (check.damaged.length > 0 && journal.lastSeq() === 0) {
      const files = check.damaged.map((d) => d.file).join(', ');
      if (!options.acceptLoss) {
        throw new JournalError(
          'behind-watermark',
          journal.path,
          `journal ${journal.path} is empty and its watermark ${files} is damaged, so what was issued before cannot be checked: the journal may have lost everything. ` +
            `If a backup exists, rebuild from it: \`${tools.replace(' verify', ' recover')}\`; to start anyway (numbers issued earlier today may be issued again): \`${invocation} --accept-journal-loss\``,
        );
      }
      return { journal, watermarkPath, check, unknownLoss: files };
    }
    return { journal, watermarkPath, check };
  } catch (err) {
    journal.close();
    throw err;
  }
}

/**
 * After replay: records an accepted loss (a `journal.loss` event that also raises the day's
 * numbering above the watermark), raises the journal alarms, and starts keeping the watermark
 * after every commit. Returns the writer so the daemon can close it.
 */
export function startWatermark(checked: CheckedJournal, hall: Hall, alarms: JournalAlarms, options: Pick<JournalStartOptions, 'mirror' | 'log'>): WatermarkWriter {
  const { journal, loss, check } = checked;
  if (loss) {
    const detail = describeLoss(loss);
    const result = hall.execute({
      type: 'record-journal-loss',
      loss: { lostSeq: loss.lostSeq, lostTickets: loss.lostTickets, numberFloors: loss.numberFloors, watermarkDay: loss.day, detail },
    });
    if (!result.ok) throw new Error(`could not record the journal loss: ${result.message}`);
    alarms.raise(
      {
        code: 'journal-loss',
        severity: 'critical',
        message: `the journal lost ${detail}; numbering continued above the watermark. Acknowledge (admin) once the gap has been looked into.`,
      },
      hall.now(),
    );
  }
  if (checked.unknownLoss) {
    alarms.raise(
      { code: 'journal-loss', severity: 'critical', message: `started with an empty journal and a damaged watermark (${checked.unknownLoss}): earlier records and numbers of today may be lost` },
      hall.now(),
    );
  }
  if (check.damaged.length > 0 && !checked.unknownLoss) {
    alarms.raise(
      {
        code: 'watermark-damaged',
        severity: 'warning',
        message: `the journal watermark ${check.damaged.map((d) => d.file).join(', ')} was damaged (${check.damaged.map((d) => d.problem).join('; ')}); it was not trusted and has been rewritten from the journal, so a loss before this start could not be checked`,
      },
      hall.now(),
    );
  }
  const engine = hall.engine;
  const tickets: Record<string, string> = {};
  for (const service of hall.model.services) {
    const issued = engine.issuedCount(service.id);
    if (issued > 0) tickets[service.id] = `${service.prefix}${String(issued).padStart(service.digits, '0')}`;
  }
  const writer = new WatermarkWriter({
    path: checked.watermarkPath,
    mirror: options.mirror,
    log: options.log.child({ component: 'watermark' }),
    start: { lastSeq: journal.lastSeq(), day: engine.currentDay() ?? null, tickets, gen: (check.record?.gen ?? 0) + 1 },
  });
  journal.onAppended((events) => writer.advance(events));
  return writer;
}
