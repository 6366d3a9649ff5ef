import { closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../platform/logger.js';
import type { SequencedEvent } from '../queue/events.js';

/**
 * What the journal had reached, kept OUTSIDE the journal so that a journal which lost data (a
 * zero-length file, a cut or damaged WAL, an old copy put back) can be caught at the next start:
 * the journal's last seq can never honestly be below the watermark's.
 *
 * `tickets` holds, for `day`, the highest number issued per service: what the numbering must
 * stay above if the journal lost that day's tickets.
 */
export interface WatermarkRecord {
  /** Write generation: the newer of the two slots is the one with the higher gen. */
  gen: number;
  lastSeq: number;
  day: string | null;
  /** service id → highest ticket number issued on `day`, e.g. "A0300". */
  tickets: Record<string, string>;
  /** Wall-clock time of the write (epoch ms), for the operator's report only. */
  at: number;
}

export type WatermarkRead =
  | { status: 'missing'; file: string }
  | { status: 'ok'; file: string; record: WatermarkRecord; /** one slot was unreadable (a torn write, or damage) */ damagedSlot: boolean }
  | { status: 'damaged'; file: string; problem: string };

/**
 * The file is two fixed 4 KiB slots written alternately, each a line of text with a CRC-32 of
 * its JSON. An update is one pwrite of one slot and one fdatasync — no rename, no directory
 * fsync — which keeps it cheap enough to run after every journal commit; a write torn by a power
 * cut damages only the slot being written, and the other still holds the previous generation.
 */
export const SLOT_BYTES = 4096;
const MAGIC = 'hall-edge watermark v1';
const SLOT_PATTERN = /^hall-edge watermark v1 ([0-9a-f]{8}) (\{[^\n]*\})\n *\n?$/;

export function encodeSlot(record: WatermarkRecord, into: Buffer = Buffer.alloc(SLOT_BYTES)): Buffer {
  const json = JSON.stringify(record);
  const line = `${MAGIC} ${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
  const length = Buffer.byteLength(line);
  // 26 services of four-digit numbers take well under 1 KiB; a bigger record is a bug.
  if (length > SLOT_BYTES - 1) throw new Error(`watermark record too large (${length} bytes)`);
  into.fill(0x20);
  into.write(line, 0, 'utf8');
  into[SLOT_BYTES - 1] = 0x0a;
  return into;
}

/** The record in one slot, or why it cannot be trusted. */
export function decodeSlot(bytes: Buffer): WatermarkRecord | string {
  const text = bytes.toString('utf8');
  const match = SLOT_PATTERN.exec(text);
  if (!match) return text.trim() === '' ? 'empty slot' : 'not a watermark slot (bytes changed or cut)';
  const [, crc, json] = match;
  if (crc32(json!).toString(16).padStart(8, '0') !== crc) return 'checksum mismatch (bytes changed)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json!);
  } catch {
    return 'unreadable JSON';
  }
  return isRecord(parsed) ? parsed : 'fields missing or of the wrong type';
}

function isRecord(value: unknown): value is WatermarkRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<WatermarkRecord>;
  return (
    Number.isSafeInteger(r.gen) &&
    Number.isSafeInteger(r.lastSeq) &&
    (r.lastSeq ?? -1) >= 0 &&
    (r.day === null || (typeof r.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(r.day))) &&
    typeof r.tickets === 'object' &&
    r.tickets !== null &&
    Object.values(r.tickets).every((n) => typeof n === 'string' && /^[A-Z]\d{1,6}$/.test(n)) &&
    typeof r.at === 'number'
  );
}

/** Reads a watermark file: the newer valid slot, or why none can be trusted. */
export function readWatermark(path: string): WatermarkRead {
  const file = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', file };
    return { status: 'damaged', file, problem: `cannot be read: ${(err as Error).message}` };
  }
  if (bytes.length === 0) return { status: 'damaged', file, problem: 'the file is empty (zero length)' };
  const slots = [0, 1].map((i) => decodeSlot(padTo(bytes.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES))));
  const valid = slots.filter((slot): slot is WatermarkRecord => typeof slot !== 'string');
  if (valid.length === 0) {
    return { status: 'damaged', file, problem: `neither copy inside it can be read (${slots.map(String).join('; ')})` };
  }
  const record = valid.reduce((a, b) => (b.gen > a.gen ? b : a));
  return { status: 'ok', file, record, damagedSlot: valid.length < 2 };
}

function padTo(bytes: Buffer): Buffer {
  if (bytes.length === SLOT_BYTES) return bytes;
  const padded = Buffer.alloc(SLOT_BYTES);
  bytes.copy(padded);
  return padded;
}

/** The highest ticket number per service of `day` among these events, as "A0300". */
export function highestTickets(events: Iterable<SequencedEvent>, day: string): Record<string, string> {
  const highest: Record<string, string> = {};
  for (const event of events) {
    if (event.type !== 'ticket.issued' || event.day !== day) continue;
    const serviceId = event.ticket.issuedServiceId;
    const current = highest[serviceId];
    if (current === undefined || serialOf(event.ticket.number) > serialOf(current)) highest[serviceId] = event.ticket.number;
  }
  return highest;
}

/** 153 for "A0153" (the prefix is one capital letter). */
export function serialOf(number: string): number {
  return Number(number.slice(1));
}

export interface WatermarkWriterOptions {
  path: string;
  /** A second copy on another medium (USB stick, second partition). Written off the hot path. */
  mirror?: string;
  log: Logger;
  /**
   * true: fdatasync inside `advance`, before the events are shown (a second fsync on the
   * call-next path, which about doubles the commit on eMMC). false (default): the slot is written
   * inside `advance` — so no process crash can lose it — and made durable by an fdatasync in
   * libuv's thread pool right after, coalesced; a power cut can then only lose the last few
   * milliseconds of watermark, which the journal would have to lose as well for a number to be at
   * risk.
   */
  syncEachCommit?: boolean;
  /** Starting state: what the journal holds after start-up (replay, any recorded loss). */
  start: { lastSeq: number; day: string | null; tickets: Record<string, string>; gen: number };
}

/**
 * Keeps the watermark current. `advance` runs right after each journal commit, before anything
 * outside the process sees the events: one pwrite and one fdatasync of the primary file. The
 * mirror, on slower media, is written asynchronously with the latest state (coalesced), so a
 * slow USB stick never sits on the call-next path; it may lag by one write.
 *
 * A failure to write is logged and counted, never thrown: the events are already durable in the
 * journal, and refusing them now would only make their callers believe they failed.
 */
export class WatermarkWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.alloc(SLOT_BYTES);
  private state: WatermarkRecord;
  private failures = 0;
  private writes = 0;
  private mirrorHandle: FileHandle | undefined;
  private mirrorBusy = false;
  private mirrorDirty = false;
  private mirrorFailures = 0;
  private closed = false;
  private syncing = false;
  private syncAgain = false;
  private readonly syncEachCommit: boolean;
  readonly path: string;
  readonly mirror: string | undefined;
  private readonly log: Logger;

  constructor(options: WatermarkWriterOptions) {
    this.path = resolve(options.path);
    this.mirror = options.mirror ? resolve(options.mirror) : undefined;
    this.log = options.log;
    this.syncEachCommit = options.syncEachCommit === true;
    this.state = { ...options.start, tickets: { ...options.start.tickets }, at: Date.now() };
    mkdirSync(dirname(this.path), { recursive: true });
    // Not truncated: a power cut between a truncate and the first write would leave nothing.
    this.fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o644);
    // Both slots get the start state one after the other, so a torn write leaves a good slot.
    this.writeSlot(0);
    fsyncSync(this.fd);
    this.writeSlot(1);
    fsyncSync(this.fd);
    syncDirectory(dirname(this.path));
    this.scheduleMirror();
  }

  /** Folds committed events into the watermark and makes it durable. */
  advance(events: readonly SequencedEvent[]): void {
    if (this.closed || events.length === 0) return;
    const state = this.state;
    for (const event of events) {
      if (event.seq > state.lastSeq) state.lastSeq = event.seq;
      if (event.type === 'day.started' && event.day !== state.day) {
        state.day = event.day;
        state.tickets = {};
      } else if (event.type === 'ticket.issued') {
        if (event.day !== state.day) {
          state.day = event.day;
          state.tickets = {};
        }
        const serviceId = event.ticket.issuedServiceId;
        const current = state.tickets[serviceId];
        if (current === undefined || serialOf(event.ticket.number) > serialOf(current)) state.tickets[serviceId] = event.ticket.number;
      }
    }
    state.gen += 1;
    state.at = Date.now();
    try {
      this.writeSlot(state.gen % 2);
      if (this.syncEachCommit) fdatasyncSync(this.fd);
      else this.syncInBackground();
      this.writes += 1;
    } catch (err) {
      this.failed(err);
    }
    this.scheduleMirror();
  }

  private failed(err: unknown): void {
    this.failures += 1;
    // Once per burst of failures is enough for the log; the counter tells the rest.
    if (this.failures === 1 || this.failures % 1000 === 0) this.log.error({ err, watermark: this.path, failures: this.failures }, 'could not write the journal watermark');
  }

  private syncInBackground(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err && !this.closed) this.failed(err);
      if (this.syncAgain && !this.closed) {
        this.syncAgain = false;
        this.syncInBackground();
      }
    });
  }

  record(): WatermarkRecord {
    return { ...this.state, tickets: { ...this.state.tickets } };
  }

  counters(): { writes: number; failures: number; mirrorFailures: number } {
    return { writes: this.writes, failures: this.failures, mirrorFailures: this.mirrorFailures };
  }

  /** Waits for a pending mirror write (tests, shutdown). */
  async flushMirror(): Promise<void> {
    while (this.mirrorBusy || this.mirrorDirty) {
      if (!this.mirrorBusy) this.scheduleMirror();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushMirror();
    while (this.syncing) await new Promise((r) => setTimeout(r, 2));
    this.closed = true;
    try {
      fdatasyncSync(this.fd);
    } catch (err) {
      this.failed(err);
    }
    closeSync(this.fd);
    await this.mirrorHandle?.close().catch(() => undefined);
  }

  private writeSlot(slot: number): void {
    encodeSlot(this.state, this.buffer);
    writeSync(this.fd, this.buffer, 0, SLOT_BYTES, slot * SLOT_BYTES);
  }

  private scheduleMirror(): void {
    if (!this.mirror || this.closed) return;
    this.mirrorDirty = true;
    if (this.mirrorBusy) return;
    this.mirrorBusy = true;
    void this.writeMirror().finally(() => {
      this.mirrorBusy = false;
      if (this.mirrorDirty && !this.closed) this.scheduleMirror();
    });
  }

  private async writeMirror(): Promise<void> {
    this.mirrorDirty = false;
    const state = this.record();
    try {
      if (!this.mirrorHandle) {
        mkdirSync(dirname(this.mirror!), { recursive: true });
        this.mirrorHandle = await openAsync(this.mirror!, 'w+');
        const first = encodeSlot(state);
        await this.mirrorHandle.write(first, 0, SLOT_BYTES, 0);
        await this.mirrorHandle.write(first, 0, SLOT_BYTES, SLOT_BYTES);
        await this.mirrorHandle.sync();
        if (this.mirrorFailures > 0) this.log.info({ mirror: this.mirror }, 'watermark mirror writable again');
        return;
      }
      await this.mirrorHandle.write(encodeSlot(state), 0, SLOT_BYTES, (state.gen % 2) * SLOT_BYTES);
      await this.mirrorHandle.datasync();
    } catch (err) {
      this.mirrorFailures += 1;
      await this.mirrorHandle?.close().catch(() => undefined);
      this.mirrorHandle = undefined;
      if (this.mirrorFailures === 1 || this.mirrorFailures % 1000 === 0) {
        this.log.error({ err, mirror: this.mirror, failures: this.mirrorFailures }, 'could not write the watermark mirror (is the second medium mounted?)');
      }
    }
  }
}

/** Makes a new file's directory entry durable (a file created but not in its directory is lost). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the file's own fsync is then all we can do.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
