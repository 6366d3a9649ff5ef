import type { Logger } from './logger.js';

type Listener<T> = (payload: T) => void;

/**
 * A typed in-process event bus. A listener that throws is caught and logged: one faulty device
 * driver must never stop the others (or the call-next loop) from hearing an event.
 */
export class EventBus<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  private failures = 0;

  constructor(private readonly log?: Logger) {}

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners.get(name)?.delete(listener as Listener<never>);
  }

  /** Calls every listener; returns how many of them threw (each is logged and counted). */
  emit<K extends keyof Events>(name: K, payload: Events[K]): number {
    const set = this.listeners.get(name);
    if (!set) return 0;
    const before = this.failures;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        this.failures += 1;
        this.log?.error({ err, event: String(name) }, 'event listener failed');
      }
    }
    return this.failures - before;
  }

  /** How many listener calls have thrown since start (exposed for health reporting). */
  get listenerFailures(): number {
    return this.failures;
  }
}
