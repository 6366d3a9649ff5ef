/**
 * Refusals sent after a delay (a tarpit): a flooding client told "no" at once reconnects at
 * once, so 50 flooding connections became ~1,000 connections a second, each accepted, parsed and
 * answered. Held, the same 50 connections sit idle until their answer. At most `maxHeld` are
 * held; beyond that a refusal is sent at once, so holding cannot become the next thing to exhaust.
 */
export class HeldRefusals {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly maxHeld: number) {}

  /** Runs `refuse` after `delayMs`, or now when too many are held already. */
  hold(delayMs: number, refuse: () => void): void {
    if (delayMs <= 0 || this.timers.size >= this.maxHeld) {
      refuse();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      refuse();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  held(): number {
    return this.timers.size;
  }

  /** Drops every held refusal (the broker is closing and disconnects the clients anyway). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
