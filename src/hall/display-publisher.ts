import type { Logger } from '../platform/logger.js';
import type { MqttBridge } from '../bus/bridge.js';
import type { Journal } from '../journal/journal.js';
import type { SequencedEvent } from '../queue/events.js';
import type { Hall } from './hall.js';
import { displayDocument, type Broadcast } from './display-document.js';

const BROADCAST_EVENT = 'device.hall.broadcast';

/**
 * Keeps the retained `display` document current: rebuilt once per burst of events, in the
 * dispatcher's `state` stage (after the LED frames and the event stream), and published only
 * when it changed. The broadcast line survives a restart: it is read back from today's journal.
 */
export class DisplayPublisher {
  private broadcast: Broadcast | undefined;
  private scheduled = false;
  private last = '';
  private off: (() => void) | undefined;

  constructor(
    private readonly hall: Hall,
    private readonly bridge: MqttBridge,
    private readonly journal: Journal,
    private readonly log: Logger,
  ) {}

  start(): void {
    const day = this.hall.engine.currentDay();
    if (day) {
      const event = this.journal.lastOfType(day, BROADCAST_EVENT);
      if (event) this.remember(event);
    }
    this.off = this.hall.dispatcher.on('state', (events) => {
      for (const event of events) this.remember(event);
      this.schedule();
    });
    this.publish();
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  private remember(event: SequencedEvent): void {
    if (event.type !== BROADCAST_EVENT || !('data' in event)) return;
    const text = event.data.text;
    if (typeof text === 'string') this.broadcast = { text, at: event.at, day: event.day };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.hall.dispatcher.defer(
      'state',
      () => {
        this.scheduled = false;
        this.publish();
      },
      'immediate',
    );
  }

  private publish(): void {
    const body = JSON.stringify(displayDocument(this.hall, this.broadcast));
    if (body === this.last) return;
    this.last = body;
    this.bridge.publishRetained('display', Buffer.from(body));
    this.log.debug({ bytes: body.length }, 'display document published');
  }
}
