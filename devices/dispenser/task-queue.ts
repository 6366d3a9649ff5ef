/**
 * Runs async tasks one at a time, in the order they were added: one dispenser prints one
 * ticket at a time, and a burst of presses comes out in press order. A failing task does not
 * stop the ones behind it.
 */
export class TaskQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => (this.waiting -= 1),
      () => (this.waiting -= 1),
    );
    return result;
  }

  /** Tasks queued or running. */
  get depth(): number {
    return this.waiting;
  }

  /** Resolves when everything queued so far is done. */
  async idle(): Promise<void> {
    while (this.waiting > 0) await this.tail;
  }
}
