/** A place in a waiting line, with what the call policy needs to know without a lookup. */
export interface LineEntry {
  number: string;
  order: number;
  priority: boolean;
  /** An appointment ticket: callable only once its slot has begun. */
  appointment: boolean;
}

interface Line {
  entries: LineEntry[];
  priorities: number;
  appointments: number;
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
      line = { entries: [], priorities: 0, appointments: 0 };
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
    if (entry.priority) line.priorities += 1;
    if (entry.appointment) line.appointments += 1;
  }

  remove(key: string, number: string): boolean {
    const line = this.lines.get(key);
    if (!line) return false;
    const index = line.entries.findIndex((entry) => entry.number === number);
    if (index < 0) return false;
    const [entry] = line.entries.splice(index, 1);
    if (entry!.priority) line.priorities -= 1;
    if (entry!.appointment) line.appointments -= 1;
    return true;
  }

  /** Entries in line order. The returned array must not be modified. */
  line(key: string): ReadonlyArray<LineEntry> {
    return this.lines.get(key)?.entries ?? EMPTY;
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
