/**
 * Ranges of seq that central consumers asked to be sent again (`uplink/replay`), served oldest
 * first in bounded chunks. Overlapping or adjacent requests merge, and the list has a bound: a
 * consumer repeating its request while the first is served costs nothing extra.
 */
export interface SeqRange {
  /** Exclusive: the range starts after this seq. */
  since: number;
  /** Inclusive. */
  until: number;
}

const MAX_RANGES = 16;

export class ReplayRanges {
  private ranges: SeqRange[] = [];

  get pending(): number {
    return this.ranges.reduce((sum, range) => sum + (range.until - range.since), 0);
  }

  add(range: SeqRange): void {
    if (range.until <= range.since) return;
    const all = [...this.ranges, { ...range }].sort((a, b) => a.since - b.since);
    const merged: SeqRange[] = [];
    for (const next of all) {
      const last = merged[merged.length - 1];
      if (last && next.since <= last.until) last.until = Math.max(last.until, next.until);
      else merged.push(next);
    }
    // Beyond the bound the two closest ranges become one (resending a little more, never less).
    while (merged.length > MAX_RANGES) {
      let best = 0;
      for (let i = 1; i < merged.length - 1; i++) {
        if (merged[i + 1]!.since - merged[i]!.until < merged[best + 1]!.since - merged[best]!.until) best = i;
      }
      merged[best] = { since: merged[best]!.since, until: merged[best + 1]!.until };
      merged.splice(best + 1, 1);
    }
    this.ranges = merged;
  }

  /** The next chunk of at most `max` events to resend, taken off the list. */
  take(max: number): SeqRange | undefined {
    const head = this.ranges[0];
    if (!head) return undefined;
    const chunk = { since: head.since, until: Math.min(head.until, head.since + max) };
    if (chunk.until >= head.until) this.ranges.shift();
    else head.since = chunk.until;
    return chunk;
  }

  clear(): void {
    this.ranges = [];
  }
}
