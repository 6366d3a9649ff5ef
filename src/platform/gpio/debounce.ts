/**
 * Button debounce as a pure state machine: an edge within `debounceMs` of the last accepted
 * edge is contact bounce and ignored; an accepted edge to the active level is one press.
 * Edges normally alternate, so an active edge after an active edge means a release was missed
 * (bounced away) — it still counts as a new press.
 */
export class PressDebouncer {
  private lastAcceptedAt: number | undefined;

  constructor(private readonly debounceMs: number) {}

  /** Feeds one edge (level already corrected for active-low); true when it is a press. */
  edge(active: boolean, atMs: number): boolean {
    if (this.lastAcceptedAt !== undefined && atMs - this.lastAcceptedAt < this.debounceMs && atMs >= this.lastAcceptedAt) return false;
    this.lastAcceptedAt = atMs;
    return active;
  }
}
