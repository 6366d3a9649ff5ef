import type { MqttClient } from 'mqtt';
import { createMqttClient } from '../../src/bus/client.js';

interface UplinkEvent {
  seq: number;
  type: string;
  [field: string]: unknown;
}

interface EventsMessage {
  hallId: string;
  first: number;
  last: number;
  events: UplinkEvent[];
}

/** Ask again for a gap that has not started to fill after this long (the request or its answer may be lost). */
const REPLAY_RETRY_MS = 1000;

/**
 * A central consumer as docs/central.md describes it: QoS 1 on every hall's `uplink/events`,
 * a persistent session, dedup by (hall, seq), in-order delivery, and a replay request on
 * `uplink/replay` for any gap it sees. `accepted` is what it would store: each seq once, in order.
 */
export class UplinkConsumer {
  readonly accepted = new Map<string, UplinkEvent[]>();
  duplicates = 0;
  replayRequests = 0;
  private readonly held = new Map<string, Map<number, UplinkEvent>>();
  private readonly lastReplayAsk = new Map<string, { expected: number; at: number }>();
  private readonly client: MqttClient;

  constructor(url: string, credentials: { username: string; password: string }, clientId: string) {
    this.client = createMqttClient(url, { ...credentials, clientId, clean: false, reconnectPeriod: 200, connectTimeout: 2000 });
    this.client.on('message', (topic, payload) => {
      if (topic.endsWith('/uplink/events')) this.take(topic.slice(0, -'/uplink/events'.length), JSON.parse(payload.toString()) as EventsMessage);
    });
  }

  async ready(): Promise<void> {
    if (!this.client.connected) await new Promise<void>((resolve) => this.client.once('connect', () => resolve()));
    await this.client.subscribeAsync('hall/+/uplink/events', { qos: 1 });
  }

  connected(): boolean {
    return this.client.connected;
  }

  seqs(hallId: string): number[] {
    return (this.accepted.get(hallId) ?? []).map((event) => event.seq);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private take(prefix: string, message: EventsMessage): void {
    const hallId = message.hallId;
    const accepted = this.accepted.get(hallId) ?? [];
    this.accepted.set(hallId, accepted);
    const held = this.held.get(hallId) ?? new Map<number, UplinkEvent>();
    this.held.set(hallId, held);
    let expected = (accepted[accepted.length - 1]?.seq ?? 0) + 1;
    for (const event of message.events) {
      if (event.seq < expected || held.has(event.seq)) this.duplicates++;
      else held.set(event.seq, event);
    }
    while (held.has(expected)) {
      accepted.push(held.get(expected)!);
      held.delete(expected);
      expected++;
    }
    if (held.size > 0) this.askForGap(prefix, hallId, expected, Math.min(...held.keys()) - 1);
  }

  private askForGap(prefix: string, hallId: string, expected: number, until: number): void {
    const last = this.lastReplayAsk.get(hallId);
    if (last && last.expected === expected && Date.now() - last.at < REPLAY_RETRY_MS) return;
    this.lastReplayAsk.set(hallId, { expected, at: Date.now() });
    this.replayRequests++;
    this.client.publish(`${prefix}/uplink/replay`, JSON.stringify({ since: expected - 1, until }), { qos: 1 });
  }
}
