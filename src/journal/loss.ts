import type { Journal } from './journal.js';
import { highestTickets, serialOf, type WatermarkRead, type WatermarkRecord } from './watermark.js';

/** What a journal behind its watermark has lost. */
export interface JournalLoss {
  journalFile: string;
  watermarkFile: string;
  /** Seqs the watermark says were written and the journal no longer has. */
  lostSeq: { from: number; to: number };
  /** The day the lost tickets belong to (the watermark's day). */
  day: string | null;
  lostTickets: Array<{ serviceId: string; from: string; to: string }>;
  /** service id → the highest serial issued on `day`: numbering continues above it. */
  numberFloors: Record<string, number>;
}

/** The watermark the daemon compares against: the newest trustworthy one of primary and mirror. */
export interface WatermarkCheck {
  /** The record to compare with, if any copy could be trusted. */
  record?: WatermarkRecord;
  /** Which file it came from. */
  file?: string;
  /** Copies that exist but cannot be trusted, with the reason, for the operator. */
  damaged: Array<{ file: string; problem: string }>;
  /** Copies where one of the two slots was unreadable (a torn write or damage). */
  damagedSlots: string[];
  /** True when no copy exists at all (first start, or upgraded from a version without one). */
  none: boolean;
}

export function chooseWatermark(reads: WatermarkRead[]): WatermarkCheck {
  const check: WatermarkCheck = { damaged: [], damagedSlots: [], none: true };
  for (const read of reads) {
    if (read.status === 'missing') continue;
    check.none = false;
    if (read.status === 'damaged') {
      check.damaged.push({ file: read.file, problem: read.problem });
      continue;
    }
    if (read.damagedSlot) check.damagedSlots.push(read.file);
    if (!check.record || read.record.lastSeq > check.record.lastSeq) {
      check.record = read.record;
      check.file = read.file;
    }
  }
  return check;
}

/**
 * Compares the journal with its watermark. Undefined when the journal holds everything the
 * watermark says was written (it may hold more: the watermark is written after the journal).
 */
export function assessLoss(journal: Journal, watermark: WatermarkRecord, watermarkFile: string): JournalLoss | undefined {
  const journalSeq = journal.lastSeq();
  if (journalSeq >= watermark.lastSeq) return undefined;
  const kept = watermark.day ? highestTickets(journal.readDay(watermark.day), watermark.day) : {};
  const lostTickets: JournalLoss['lostTickets'] = [];
  const numberFloors: Record<string, number> = {};
  for (const [serviceId, highest] of Object.entries(watermark.tickets)) {
    const floor = serialOf(highest);
    numberFloors[serviceId] = floor;
    const have = kept[serviceId] ? serialOf(kept[serviceId]!) : 0;
    if (have < floor) lostTickets.push({ serviceId, from: formatLike(highest, have + 1), to: highest });
  }
  return { journalFile: journal.path, watermarkFile, lostSeq: { from: journalSeq + 1, to: watermark.lastSeq }, day: watermark.day, lostTickets, numberFloors };
}

/** "A0153" for (A0300, 153): same prefix and width as the example number. */
function formatLike(example: string, serial: number): string {
  return `${example[0]}${String(serial).padStart(example.length - 1, '0')}`;
}

/** "seq 1204..2410, tickets A0153..A0300, B0040..B0101 of 2026-12-01" */
export function describeLoss(loss: JournalLoss): string {
  const seqs = loss.lostSeq.from === loss.lostSeq.to ? `seq ${loss.lostSeq.from}` : `seq ${loss.lostSeq.from}..${loss.lostSeq.to}`;
  const tickets = loss.lostTickets.map((t) => (t.from === t.to ? t.from : `${t.from}..${t.to}`)).join(', ');
  return tickets ? `${seqs}, tickets ${tickets} of ${loss.day}` : `${seqs} (no ticket numbers among them)`;
}
