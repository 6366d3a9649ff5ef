/**
 * The order announcements are heard in. One at a time, never cut off: a new call waits for the
 * one playing. A call for a ticket already waiting in the queue is merged into it (its place
 * kept, its window updated) instead of being played twice. No I/O: playing is a callback.
 */

export interface QueueStats {
  /** Waiting, not counting the one playing. */
  queueLength: number;
  playing: boolean;
  played: number;
  errors: number;
  merged: number;
  /** Refused because the queue was full. */
  dropped: number;
  /** From the call (`at`) to the first sound of the last announcement started. */
  lastDelayMs: number | null;
}

export interface QueueEntry<T> {
  key: string;
  payload: T;
  /** When it was called (the hall clock). */
  at: number;
}

export interface AnnouncementQueueOptions<T> {
  /**
   * Plays one entry and resolves when it has finished. Calls `soundStarts()` right before the
   * sound starts (after rendering), which is what the reported delay measures.
   */
  play(entry: QueueEntry<T>, soundStarts: () => void): Promise<void>;
  /** The waiting entry's payload, updated by a new call for the same key. */
  merge(waiting: T, incoming: T): T;
  now(): number;
  maxLength?: number;
  onChange?(stats: QueueStats): void;
  onError?(err: unknown, entry: QueueEntry<T>): void;
  onPlayed?(entry: QueueEntry<T>): void;
}

export type EnqueueOutcome = 'queued' | 'merged' | 'dropped' | 'stopped';

export class AnnouncementQueue<T> {
  private readonly waiting: Array<QueueEntry<T>> = [];
  private current: Promise<void> | undefined;
  private stopped = false;
  private readonly counters = { played: 0, errors: 0, merged: 0, dropped: 0 };
  private lastDelayMs: number | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: AnnouncementQueueOptions<T>) {}

  enqueue(key: string, payload: T, at: number): EnqueueOutcome {
    if (this.stopped) return 'stopped';
    const existing = this.waiting.find((entry) => entry.key === key);
    if (existing) {
      existing.payload = this.options.merge(existing.payload, payload);
      this.counters.merged += 1;
      this.changed();
      return 'merged';
    }
    if (this.waiting.length >= (this.options.maxLength ?? 100)) {
      this.counters.dropped += 1;
      this.changed();
      return 'dropped';
    }
    this.waiting.push({ key, payload, at });
    this.changed();
    this.pump();
    return 'queued';
  }

  stats(): QueueStats {
    return { queueLength: this.waiting.length, playing: this.current !== undefined, ...this.counters, lastDelayMs: this.lastDelayMs };
  }

  /** Resolves when nothing is playing or waiting. */
  idle(): Promise<void> {
    if (!this.current && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is waiting (returns how many) and waits for the one playing to finish. */
  async stop(): Promise<number> {
    this.stopped = true;
    const dropped = this.waiting.splice(0).length;
    await this.current;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.changed();
    return dropped;
  }

  private pump(): void {
    if (this.current || this.stopped) return;
    const entry = this.waiting.shift();
    if (!entry) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    this.current = this.playOne(entry).finally(() => {
      this.current = undefined;
      this.changed();
      this.pump();
    });
    this.changed();
  }

  private async playOne(entry: QueueEntry<T>): Promise<void> {
    let started = false;
    const soundStarts = (): void => {
      if (started) return;
      started = true;
      this.lastDelayMs = Math.max(0, this.options.now() - entry.at);
    };
    try {
      await this.options.play(entry, soundStarts);
      this.counters.played += 1;
      this.safely(() => this.options.onPlayed?.(entry));
    } catch (err) {
      this.counters.errors += 1;
      this.safely(() => this.options.onError?.(err, entry));
    }
  }

  private changed(): void {
    this.safely(() => this.options.onChange?.(this.stats()));
  }

  /** A faulty callback must not stall the queue. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // Deliberately ignored: callbacks report; they do not control the queue.
    }
  }
}
