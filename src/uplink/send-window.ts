/**
 * The uplink's messages sent and not yet acknowledged, and the cursor they move. The cursor is
 * the last seq such that every event up to it has been acknowledged (PUBACK) by the central
 * broker: a message acknowledged out of turn does not move it past one still in flight, so a
 * restart resumes from a point the broker has everything before.
 */
export interface SentBatch {
  readonly id: number;
  readonly first: number;
  readonly last: number;
  /** Resent on a central consumer's request: acknowledged, it moves nothing. */
  readonly replay: boolean;
  acked: boolean;
}

export class SendWindow {
  private entries: SentBatch[] = [];
  private nextId = 1;
  private ackedThrough: number;

  constructor(cursor: number) {
    this.ackedThrough = cursor;
  }

  /** Messages in flight. */
  get size(): number {
    return this.entries.length;
  }

  /** Every event up to this seq is acknowledged by the central broker. */
  get cursor(): number {
    return this.ackedThrough;
  }

  add(first: number, last: number, replay: boolean): SentBatch {
    const batch: SentBatch = { id: this.nextId++, first, last, replay, acked: false };
    this.entries.push(batch);
    return batch;
  }

  /** Marks one message acknowledged; returns the new cursor when it moved. */
  ack(id: number): number | undefined {
    const batch = this.entries.find((entry) => entry.id === id);
    if (!batch) return undefined;
    batch.acked = true;
    const before = this.ackedThrough;
    while (this.entries.length > 0 && this.entries[0]!.acked) {
      const head = this.entries.shift()!;
      if (!head.replay && head.last > this.ackedThrough) this.ackedThrough = head.last;
    }
    return this.ackedThrough > before ? this.ackedThrough : undefined;
  }

  /**
   * The connection is gone: what was in flight may or may not have arrived, so it is all
   * forgotten and the stream restarts from the cursor. Returns the replays that were in flight,
   * so they can be queued again.
   */
  reset(): SentBatch[] {
    const lost = this.entries.filter((entry) => entry.replay && !entry.acked);
    this.entries = [];
    return lost;
  }
}
