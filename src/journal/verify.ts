import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describeOpenError } from './errors.js';
import { copyJournal, readRowsTolerant, runningOwner, seqGaps } from './inspect.js';
import { APPLICATION_ID } from './schema.js';
import { highestTickets, readWatermark, serialOf } from './watermark.js';
import type { SequencedEvent } from '../queue/events.js';

export interface VerifyReport {
  file: string;
  ok: boolean;
  /** What is wrong, one plain sentence each. Empty when ok. */
  problems: string[];
  /** What was checked and found right, for the report. */
  facts: string[];
}

/**
 * `hall-edge journal verify`: SQLite's full integrity check, every event readable, seq
 * continuity (a gap is only acceptable where a journal.loss event records it), and agreement
 * with the watermark(s). Works on a copy; the journal itself is not touched.
 */
export function verifyJournal(file: string, watermarks: string[]): VerifyReport {
  const report: VerifyReport = { file, ok: false, problems: [], facts: [] };
  if (!existsSync(file)) {
    report.problems.push(`${file} does not exist`);
    checkWatermarks(report, watermarks, 0, () => ({}));
    return finish(report);
  }
  report.facts.push(`file: ${file} (${statSync(file).size} bytes${existsSync(`${file}-wal`) ? `, WAL ${statSync(`${file}-wal`).size} bytes` : ', no WAL'})`);
  const copy = copyJournal(file);
  let db: Database.Database | undefined;
  try {
    try {
      db = new Database(copy.file, { fileMustExist: true });
      const appId = db.pragma('application_id', { simple: true }) as number;
      if (appId !== APPLICATION_ID) {
        report.problems.push(`${file} is not a hall-edge journal (application_id ${appId}): its header is damaged or it is another file`);
      }
    } catch (err) {
      report.problems.push(describeOpenError(file, err).message);
      checkWatermarks(report, watermarks, 0, () => ({}));
      return finish(report);
    }
    const owner = runningOwner(db);
    if (owner) report.facts.push(`note: a hall-edge daemon (pid ${owner}) has this journal open; this report is of a copy taken while it wrote`);

    let integrity: string[];
    try {
      integrity = db.prepare('PRAGMA integrity_check(20)').pluck().all() as string[];
    } catch (err) {
      integrity = [(err as Error).message];
    }
    if (integrity.length === 1 && integrity[0] === 'ok') report.facts.push('integrity check: ok (every page and index)');
    else report.problems.push(`integrity check found damaged pages: ${integrity.slice(0, 5).join('; ')}${integrity.length > 5 ? ` (+${integrity.length - 5} more)` : ''}`);

    const { rows, badBodies, readErrors } = readRowsTolerant(db);
    for (const error of readErrors.slice(0, 5)) report.problems.push(`cannot read ${error}`);
    if (badBodies.length > 0) report.problems.push(`${badBodies.length} event(s) are unreadable (changed bytes): seq ${summarize(badBodies)}`);
    const days = new Set(rows.map((r) => r.day));
    const last = rows[rows.length - 1]?.seq ?? 0;
    report.facts.push(`events: ${rows.length} readable, seq ${rows[0]?.seq ?? 0}..${last}, ${days.size} day(s)${days.size ? ` (${[...days].sort()[0]} .. ${[...days].sort().pop()})` : ''}`);
    const gaps = seqGaps(rows);
    const unexplained = gaps.filter((g) => !g.recordedLoss);
    for (const gap of gaps.filter((g) => g.recordedLoss)) report.facts.push(`seq ${gap.from}..${gap.to}: missing, recorded by a journal.loss event (a loss accepted at start)`);
    if (unexplained.length > 0) report.problems.push(`seq is not continuous: missing ${unexplained.slice(0, 10).map((g) => (g.from === g.to ? `${g.from}` : `${g.from}..${g.to}`)).join(', ')}`);
    else if (rows.length > 0) report.facts.push('seq: continuous');

    checkWatermarks(report, watermarks, last, (day) => highestTickets(rows.filter((r) => r.day === day && r.type === 'ticket.issued').map((r) => ({ ...(JSON.parse(r.body) as object), seq: r.seq }) as SequencedEvent), day));
  } finally {
    db?.close();
    copy.dispose();
  }
  return finish(report);
}

function checkWatermarks(report: VerifyReport, files: string[], lastSeq: number, ticketsOf: (day: string) => Record<string, string>): void {
  for (const file of files) {
    const read = readWatermark(file);
    if (read.status === 'missing') {
      report.facts.push(`watermark ${file}: none (first start, or a version without one)`);
      continue;
    }
    if (read.status === 'damaged') {
      report.problems.push(`watermark ${file} is damaged (${read.problem}): it cannot vouch for the journal`);
      continue;
    }
    const w = read.record;
    if (read.damagedSlot) report.facts.push(`watermark ${file}: one of its two copies was unreadable (a write cut short); the other is used`);
    if (lastSeq < w.lastSeq) {
      report.problems.push(`journal is behind watermark ${file}: the journal ends at seq ${lastSeq}, the watermark says seq ${w.lastSeq} was written (seq ${lastSeq + 1}..${w.lastSeq} lost)`);
    } else {
      report.facts.push(`watermark ${file}: seq ${w.lastSeq} (${new Date(w.at).toISOString()}), journal at or beyond it`);
    }
    if (w.day) {
      const kept = ticketsOf(w.day);
      const missing = Object.entries(w.tickets).filter(([service, number]) => serialOf(kept[service] ?? 'X0') < serialOf(number));
      if (missing.length > 0) {
        report.problems.push(`tickets of ${w.day} missing from the journal: ${missing.map(([service, number]) => `${number[0]}${String(serialOf(kept[service] ?? 'X0') + 1).padStart(number.length - 1, '0')}..${number}`).join(', ')}`);
      } else if (Object.keys(w.tickets).length > 0) {
        report.facts.push(`tickets of ${w.day}: the journal has every number up to ${Object.values(w.tickets).join(', ')}`);
      }
    }
  }
}

function finish(report: VerifyReport): VerifyReport {
  report.ok = report.problems.length === 0;
  return report;
}

/** "3, 7..9, 12" */
function summarize(seqs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seqs.length && parts.length < 10; i++) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    parts.push(i === j ? `${seqs[i]}` : `${seqs[i]}..${seqs[j]}`);
    i = j;
  }
  return parts.join(', ');
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [`journal verify: ${report.file}`, ...report.facts.map((f) => `  ✓ ${f}`), ...report.problems.map((p) => `  ✗ ${p}`)];
  lines.push(report.ok ? 'result: OK' : `result: ${report.problems.length} problem(s) — \`hall-edge journal recover\` rebuilds a journal into a new file from what is readable and the newest backup`);
  return `${lines.join('\n')}\n`;
}
