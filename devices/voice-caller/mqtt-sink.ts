import type { DeviceContext } from '../../src/device-contract/index.js';
import { ANNOUNCE_SUBTOPIC, PLAYED_SUBTOPIC, playedMessageSchema, VOICE_BOX_PROTOCOL_VERSION, type AnnounceMessage } from './voice-box-protocol.js';
import { SinkError, type PlayJob, type Sink } from './sinks.js';

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A networked voice box: publish `announce`, wait for `played` with the same id (or a timeout)
 * before the queue moves on, so the hall never talks over itself.
 */
export class MqttSink implements Sink {
  readonly type = 'mqtt';
  readonly needsAudio = false;
  private readonly waiting = new Map<string, Waiting>();
  private unsubscribe: (() => void) | undefined;
  private rejectedReplies = 0;

  constructor(
    private readonly ctx: Pick<DeviceContext, 'publish' | 'subscribe' | 'log'>,
    /** Added to the announcement's duration: how late `played` may come. */
    private readonly playedTimeoutMs: number,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.ctx.subscribe(PLAYED_SUBTOPIC, (payload) => this.onPlayed(payload));
  }

  get badReplies(): number {
    return this.rejectedReplies;
  }

  play(job: PlayJob): Promise<void> {
    const { plan } = job;
    const message: AnnounceMessage = {
      v: VOICE_BOX_PROTOCOL_VERSION,
      id: job.id,
      ticket: plan.ticket,
      windowNumber: plan.windowNumber,
      recall: plan.recall,
      lang: plan.phrases.map((phrase) => phrase.lang),
      text: plan.text,
      phrases: plan.phrases.map(({ lang, text, spoken, clips }) => ({ lang, text, spoken, clips })),
      chime: plan.chime,
      repeat: plan.repeat,
      clips: plan.pass,
      durationMs: Math.round(job.rendered.durationMs),
      at: Date.now(),
    };
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = job.rendered.durationMs + this.playedTimeoutMs;
      const timer = setTimeout(() => {
        this.waiting.delete(job.id);
        reject(new SinkError(`voice box did not answer played for ${job.id} within ${Math.round(timeoutMs)} ms`));
      }, timeoutMs);
      this.waiting.set(job.id, { resolve, reject, timer });
      this.ctx.publish(ANNOUNCE_SUBTOPIC, message);
    });
  }

  private onPlayed(payload: unknown): void {
    const parsed = playedMessageSchema.safeParse(payload);
    if (!parsed.success) {
      this.rejectedReplies += 1;
      this.ctx.log.warn({ payload, issues: parsed.error.issues.map((i) => i.message) }, 'voice box sent a malformed played message; ignored');
      return;
    }
    const waiting = this.waiting.get(parsed.data.id);
    if (!waiting) {
      // A late answer after a timeout, or a duplicate: nothing is waiting for it.
      this.ctx.log.debug({ id: parsed.data.id }, 'played for an announcement nobody waits for');
      return;
    }
    this.waiting.delete(parsed.data.id);
    clearTimeout(waiting.timer);
    if (parsed.data.ok === false) waiting.reject(new SinkError(`voice box could not play ${parsed.data.id}: ${parsed.data.error ?? 'no reason given'}`));
    else waiting.resolve();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const [id, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(new SinkError(`voice caller stopped while waiting for ${id}`));
    }
    this.waiting.clear();
  }
}
