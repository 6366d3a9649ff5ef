/**
 * Waiting tickets kept sorted by their place in line (`order`), one line per key (a service, or
 * a window for tickets transferred to a named window). Inserting at the ticket's own order is
 * what makes a transfer keep its place.
 */
export class WaitingLines {
  private readonly lines = new Map<string, Array<{ number: string; order: number }>>();

  insert(key: string, number: string, order: number): void {
    let line = this.lines.get(key);
    if (!line) {
      line = [];
      this.lines.set(key, line);
    }
    let lo = 0;
    let hi = line.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (line[mid]!.order < order) lo = mid + 1;
      else hi = mid;
    }
    line.splice(lo, 0, { number, order });
  }

  remove(key: string, number: string): boolean {
    const line = this.lines.get(key);
    if (!line) return false;
    const index = line.findIndex((entry) => entry.number === number);
    if (index < 0) return false;
    line.splice(index, 1);
    return true;
  }

  /** Numbers in line order. The returned array must not be modified. */
  line(key: string): ReadonlyArray<{ number: string; order: number }> {
    return this.lines.get(key) ?? [];
  }

  size(key: string): number {
    return this.lines.get(key)?.length ?? 0;
  }

  clear(): void {
    this.lines.clear();
  }
}
