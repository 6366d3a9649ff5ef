import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../platform/logger.js';

/**
 * The uplink's cursor on disk: the last seq the central broker acknowledged, for one target
 * (broker and topic prefix). Written off the event loop, at most one write at a time and only
 * the newest value. Not fsynced on purpose: a cursor lost to a power cut is an older cursor, and
 * an older cursor only resends events the central consumers drop by (hall, seq) — the journal
 * is the outbox, the cursor merely saves resending.
 */
export class CursorFile {
  private writing: Promise<void> | undefined;
  private pending: number | undefined;
  private written: number | undefined;

  constructor(
    readonly path: string,
    private readonly target: string,
    private readonly log: Logger,
  ) {}

  /** The saved cursor for this target; 0 (send everything) when there is none or it is unreadable. */
  load(): number {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, file: this.path }, 'uplink cursor unreadable; sending the journal from the start');
      return 0;
    }
    try {
      const saved = JSON.parse(text) as { seq?: unknown; target?: unknown };
      if (typeof saved.seq !== 'number' || !Number.isInteger(saved.seq) || saved.seq < 0) throw new Error('no seq');
      if (saved.target !== this.target) {
        this.log.warn({ file: this.path, was: saved.target, now: this.target }, 'uplink target changed; sending the journal from the start to the new one');
        return 0;
      }
      this.written = saved.seq;
      return saved.seq;
    } catch (err) {
      this.log.warn({ err, file: this.path }, 'uplink cursor file is damaged; sending the journal from the start');
      return 0;
    }
  }

  save(seq: number): void {
    if (seq === this.written && this.pending === undefined) return;
    this.pending = seq;
    this.writing ??= this.drain();
  }

  /** Resolves once the newest cursor is on disk (stop). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== undefined) {
        const seq = this.pending;
        this.pending = undefined;
        const body = JSON.stringify({ seq, target: this.target, savedAt: new Date().toISOString() });
        try {
          // Whole file or the old one: a crash mid-write never leaves half a cursor.
          await writeFile(`${this.path}.tmp`, `${body}\n`);
          await rename(`${this.path}.tmp`, this.path);
          this.written = seq;
        } catch (err) {
          this.log.error({ err, file: this.path, seq }, 'could not save the uplink cursor (events will be resent after a restart)');
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
