import { AwaitedResponses, type DeviceContext } from '../../src/device-contract/index.js';
import { ANNOUNCE_SUBTOPIC, ANSWER_SUBTOPIC, VOICE_BOX_PROTOCOL_VERSION, type AnnounceMessage } from './voice-box-protocol.js';
import { SinkError, type PlayJob, type Sink } from './sinks.js';

/**
 * A networked voice box: publish `announce` as a request and wait for its answer (or a timeout)
 * before the queue moves on, so the hall never talks over itself. The waiting and the answer's
 * shape are the shared request envelope's (src/device-contract/awaited-responses.ts).
 */
export class MqttSink implements Sink {
  readonly type = 'mqtt';
  readonly needsAudio = false;
  private readonly answers = new AwaitedResponses();
  private unsubscribe: (() => void) | undefined;
  private rejectedReplies = 0;

  constructor(
    private readonly ctx: Pick<DeviceContext, 'publish' | 'subscribe' | 'log'>,
    /** Added to the announcement's duration: how late the answer may come. */
    private readonly playedTimeoutMs: number,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.ctx.subscribe(ANSWER_SUBTOPIC, (payload) => this.onAnswer(payload));
  }

  get badReplies(): number {
    return this.rejectedReplies;
  }

  async play(job: PlayJob): Promise<void> {
    const { plan } = job;
    const message: AnnounceMessage = {
      v: VOICE_BOX_PROTOCOL_VERSION,
      transaction: job.id,
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
    const answered = this.answers.expect(job.id, job.rendered.durationMs + this.playedTimeoutMs, `voice box announcement ${job.id}`);
    this.ctx.publish(ANNOUNCE_SUBTOPIC, message);
    try {
      await answered;
    } catch (err) {
      throw new SinkError(`voice box could not play ${job.id}: ${(err as Error).message}`);
    }
  }

  private onAnswer(payload: unknown): void {
    const outcome = this.answers.settle(payload);
    if (outcome === 'malformed') {
      this.rejectedReplies += 1;
      this.ctx.log.warn({ payload }, 'voice box sent an answer that is not a response envelope with a transaction; ignored');
    } else if (outcome === 'unknown') {
      // A late answer after a timeout, or a duplicate: nothing is waiting for it.
      this.ctx.log.debug({ payload }, 'voice box answer for an announcement nobody waits for');
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.answers.rejectAll((transaction) => new SinkError(`voice caller stopped while waiting for ${transaction}`));
  }
}
