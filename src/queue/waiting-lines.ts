/** A place in a waiting line, with what the call policy needs to know without a lookup. */
export interface LineEntry {
  number: string;
  order: number;
  priority: boolean;
  /** An appointment ticket: callable only once its slot has begun. */
  appointment: boolean;
  /** When the ticket was issued (a requeued ticket keeps it, wherever its new place is). */
  issuedAt: number;
}

interface Line {
  entries: LineEntry[];
  priorities: number;
  appointments: number;
  /**
   * The earliest issuedAt in the line, kept as entries come and go so the retained queue
   * document does not walk thousands of entries after every group commit; undefined when it must
   * be found again (its holder left the line).
   */
  oldestIssuedAt: number | undefined;
}

const EMPTY: ReadonlyArray<LineEntry> = [];

/**
 * Waiting tickets kept sorted by their place in line (`order`), one line per key (a service, or
 * a window for tickets transferred to a named window). Inserting at the ticket's own order is
 * what makes a transfer keep its place. Each line counts its priority and appointment tickets,
 * so the call policy can skip a line without walking it: a call-next stays cheap with
 * thousands waiting.
 */
export class WaitingLines {
  private readonly lines = new Map<string, Line>();

  insert(key: string, entry: LineEntry): void {
    let line = this.lines.get(key);
    if (!line) {
      line = { entries: [], priorities: 0, appointments: 0, oldestIssuedAt: undefined };
      this.lines.set(key, line);
    }
    const entries = line.entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.order < entry.order) lo = mid + 1;
      else hi = mid;
    }
    entries.splice(lo, 0, entry);
    // An empty line, or a known oldest: the newcomer can only lower it. (Unknown stays unknown.)
    if (entries.length === 1) line.oldestIssuedAt = entry.issuedAt;
    else if (line.oldestIssuedAt !== undefined) line.oldestIssuedAt = Math.min(line.oldestIssuedAt, entry.issuedAt);
    if (entry.priority) line.priorities += 1;
    if (entry.appointment) line.appointments += 1;
  }

  remove(key: string, number: string): boolean {
    const line = this.lines.get(key);
    if (!line) return false;
    const index = line.entries.findIndex((entry) => entry.number === number);
    if (index < 0) return false;
    const [entry] = line.entries.splice(index, 1);
    if (entry!.issuedAt === line.oldestIssuedAt) line.oldestIssuedAt = undefined;
    if (entry!.priority) line.priorities -= 1;
    if (entry!.appointment) line.appointments -= 1;
    return true;
  }

  /** Entries in line order. The returned array must not be modified. */
  line(key: string): ReadonlyArray<LineEntry> {
    return this.lines.get(key)?.entries ?? EMPTY;
  }

  /** The earliest issue time of the tickets in the line (undefined when it is empty). */
  oldestIssuedAt(key: string): number | undefined {
    const line = this.lines.get(key);
    if (!line || line.entries.length === 0) return undefined;
    if (line.oldestIssuedAt === undefined) {
      let oldest = Infinity;
      for (const entry of line.entries) if (entry.issuedAt < oldest) oldest = entry.issuedAt;
      line.oldestIssuedAt = oldest;
    }
    return line.oldestIssuedAt;
  }

  size(key: string): number {
    return this.lines.get(key)?.entries.length ?? 0;
  }

  priorities(key: string): number {
    return this.lines.get(key)?.priorities ?? 0;
  }

  appointments(key: string): number {
    return this.lines.get(key)?.appointments ?? 0;
  }

  clear(): void {
    this.lines.clear();
  }
}
