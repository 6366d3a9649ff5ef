import type { InProcessMessage, RunningBroker } from '../bus/broker.js';

/** The retained documents a central platform needs to show a hall without asking it. */
export const MIRRORED_SUBTOPICS = ['bridge/info', 'stats/today', 'window/+', 'queue/+', 'alarms'] as const;

/**
 * Keeps the newest copy of the hall's retained documents as the hall publishes them on its own
 * broker, and which of them the central broker has not had yet. Only the newest copy matters
 * (they are states, not events), so a burst of window changes during an outage costs one
 * message per window when the link comes back. The set is bounded by the hall's config.
 */
export class RetainedMirror {
  private readonly latest = new Map<string, Buffer>();
  private readonly dirty = new Set<string>();
  private readonly unsubscribes: Array<() => Promise<void>> = [];

  constructor(
    private readonly localBase: string,
    private readonly onChange: () => void,
  ) {}

  /** Subscribes on the hall's broker; must run before the hall publishes its first documents. */
  async start(broker: Pick<RunningBroker, 'subscribe'>): Promise<void> {
    for (const subtopic of MIRRORED_SUBTOPICS) {
      this.unsubscribes.push(await broker.subscribe(`${this.localBase}/${subtopic}`, (message) => this.take(message)));
    }
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe();
  }

  /** After a reconnect the central broker gets every document again (it may have lost them). */
  markAllDirty(): void {
    for (const subtopic of this.latest.keys()) this.dirty.add(subtopic);
  }

  /** The documents to send now, each once. */
  takeDirty(): Array<[subtopic: string, payload: Buffer]> {
    const out: Array<[string, Buffer]> = [];
    for (const subtopic of this.dirty) out.push([subtopic, this.latest.get(subtopic)!]);
    this.dirty.clear();
    return out;
  }

  get size(): number {
    return this.latest.size;
  }

  private take(message: InProcessMessage): void {
    // Only the hall's own documents: a network client cannot write these topics (ACL), but an
    // admin could, and the central side should see the hall's word only.
    if (message.publisher) return;
    const subtopic = message.topic.slice(this.localBase.length + 1);
    this.latest.set(subtopic, message.payload);
    this.dirty.add(subtopic);
    this.onChange();
  }
}
