import type { DeviceContext, DeviceDriver, HallBusEvents } from '../../src/device-contract/index.js';
import { VOICE_ALARMS } from './alarms.js';
import { AnnouncementQueue, type QueueEntry, type QueueStats } from './announcement-queue.js';
import { planAnnouncement, type AnnouncementRequest } from './announcement-plan.js';
import { ClipLibrary } from './clip-library.js';
import { defaultClipDefinitions, vocabularyOf, type Vocabulary } from './clip-vocabulary.js';
import { MqttSink } from './mqtt-sink.js';
import { planSettingsOf, type VoiceCallerOptions } from './options.js';
import { ClipRenderer, EspeakRenderer, type Renderer } from './renderer.js';
import { runProcess } from './run-process.js';
import { alsaSink, CommandSink, FileSink, type Sink } from './sinks.js';

type AnnouncePayload = HallBusEvents['announce'];

export const VOICE_ALARM = VOICE_ALARMS.output.code;
const STOP_GRACE_MS = 3000;

export interface VoiceCallerStats extends QueueStats {
  /** Announce events refused as malformed. */
  rejected: number;
}

/**
 * The voice caller: hears `announce` on the hall bus, plans the phrases, renders them (clips or
 * espeak-ng) and plays them one at a time on the configured sink. Output trouble is logged,
 * counted, alarmed and reported as offline; it never throws into the hall.
 */
export class VoiceCallerDriver implements DeviceDriver {
  readonly kind = 'voice-caller';
  private renderer: Renderer | undefined;
  private vocabulary: Vocabulary = vocabularyOf(defaultClipDefinitions());
  private readonly sink: Sink;
  private readonly queue: AnnouncementQueue<AnnouncementRequest>;
  private readonly bootTag = Date.now().toString(36);
  private sequence = 0;
  private rejected = 0;
  private unlisten: (() => void) | undefined;
  private online: boolean | undefined;

  constructor(
    readonly id: string,
    private readonly options: VoiceCallerOptions,
    private readonly ctx: DeviceContext,
    private readonly timing: { stopGraceMs: number } = { stopGraceMs: STOP_GRACE_MS },
  ) {
    this.sink = makeSink(options, ctx);
    this.queue = new AnnouncementQueue<AnnouncementRequest>({
      now: () => ctx.hall.now(),
      maxLength: options.maxQueue,
      play: (entry, soundStarts) => this.play(entry, soundStarts),
      // The person has not heard the waiting call yet: keep its place and wording, take the newest window.
      merge: (waiting, incoming) => ({ ...incoming, recall: waiting.recall && incoming.recall }),
      onChange: () => this.publishState(),
      onPlayed: () => this.reportOutput(true),
      onError: (err, entry) => {
        this.ctx.log.error({ err, ticket: entry.payload.number, windowNumber: entry.payload.windowNumber }, 'announcement not heard');
        this.reportOutput(false, (err as Error).message);
      },
    });
  }

  async start(): Promise<void> {
    if (this.options.engine === 'clips') {
      // A missing or broken clip set is a configuration error: fail the start with ClipSetError's message.
      const library = await ClipLibrary.load(this.options.clipsDir as string);
      this.renderer = new ClipRenderer(library);
      this.vocabulary = library.vocabulary();
    } else {
      this.renderer = new EspeakRenderer({ voices: this.options.voices, speed: this.options.speed, pauseMs: this.options.pauseMs });
    }
    await this.sink.start();
    this.unlisten = this.ctx.bus.on('announce', (payload) => this.onAnnounce(payload));
    const problem = await this.probe();
    if (problem) this.reportOutput(false, problem);
    else this.reportOutput(true);
    this.publishState();
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    this.unlisten = undefined;
    const stopping = this.queue.stop();
    // Let the announcement being played finish, but a shutting-down daemon does not wait a whole
    // repeat cycle: after the grace the sink is stopped (aplay killed, voice-box wait released).
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([stopping, new Promise<void>((resolve) => (grace = setTimeout(resolve, this.timing.stopGraceMs)))]);
    clearTimeout(grace);
    await this.sink.stop();
    const dropped = await stopping;
    if (dropped > 0) this.ctx.log.warn({ dropped }, 'voice caller stopped with announcements still waiting');
  }

  stats(): VoiceCallerStats {
    return { ...this.queue.stats(), rejected: this.rejected };
  }

  /** Resolves when every queued announcement has been played (tests, demo). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private onAnnounce(payload: AnnouncePayload): void {
    const problem = invalidAnnounce(payload);
    if (problem) {
      this.rejected += 1;
      this.ctx.log.warn({ payload, problem }, 'announce event rejected');
      this.publishState();
      return;
    }
    const request: AnnouncementRequest = { number: payload.number, windowNumber: payload.windowNumber, serviceId: payload.serviceId, recall: payload.recall };
    const outcome = this.queue.enqueue(payload.number, request, payload.at);
    if (outcome === 'dropped') this.ctx.log.error({ ticket: payload.number, maxQueue: this.options.maxQueue }, 'voice queue full; call not announced');
    else this.ctx.log.debug({ ticket: payload.number, window: payload.windowId, outcome }, 'announcement queued');
  }

  private async play(entry: QueueEntry<AnnouncementRequest>, soundStarts: () => void): Promise<void> {
    const renderer = this.renderer;
    if (!renderer) throw new Error('voice caller is not started');
    const plan = planAnnouncement(entry.payload, planSettingsOf(this.options), this.vocabulary);
    const rendered = await renderer.render(plan);
    this.sequence += 1;
    const id = `${this.bootTag}-${this.sequence}`;
    soundStarts();
    this.ctx.log.info({ ticket: plan.ticket, windowNumber: plan.windowNumber, recall: plan.recall, announcement: id, durationMs: Math.round(rendered.durationMs) }, plan.text);
    await this.sink.play({ id, plan, rendered });
  }

  /** Finds output trouble before the first call: a missing player program. */
  private async probe(): Promise<string | undefined> {
    if (this.options.sink.type !== 'alsa') return undefined;
    try {
      await runProcess('aplay', ['--version'], { timeoutMs: 5000 });
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private reportOutput(ok: boolean, reason?: string): void {
    if (ok) {
      if (this.online !== true) this.ctx.clearAlarm(VOICE_ALARM);
    } else {
      this.ctx.raiseAlarm({ code: VOICE_ALARM, message: `voice output failed: ${reason ?? 'unknown'}`, severity: 'warning' });
    }
    if (this.online !== ok) this.ctx.setAvailability(ok, reason);
    this.online = ok;
  }

  private publishState(): void {
    const stats = this.stats();
    this.ctx.publishState({
      engine: this.options.engine,
      sink: this.options.sink.type,
      languages: this.options.languages,
      queueLength: stats.queueLength,
      playing: stats.playing,
      lastDelayMs: stats.lastDelayMs,
      played: stats.played,
      errors: stats.errors,
      merged: stats.merged,
      dropped: stats.dropped,
      rejected: stats.rejected,
    });
  }
}

function makeSink(options: VoiceCallerOptions, ctx: DeviceContext): Sink {
  switch (options.sink.type) {
    case 'alsa':
      return alsaSink(options.sink.device);
    case 'mqtt':
      return new MqttSink(ctx, options.sink.playedTimeoutMs);
    case 'file':
      return new FileSink(options.sink.dir);
    case 'command':
      return new CommandSink('command', options.sink.command, options.sink.args);
  }
}

/** The bus is typed, but a payload may still come from a parsed request: check what we read. */
function invalidAnnounce(payload: AnnouncePayload): string | undefined {
  // Deliberately loose view: we are checking the shape the type promises.
  const p = payload as Partial<Record<keyof AnnouncePayload, unknown>>;
  if (typeof p.number !== 'string' || !/^[A-Za-z0-9-]{1,16}$/.test(p.number) || !/[0-9]/.test(p.number)) return 'number must be a ticket number such as A023';
  if (typeof p.windowNumber !== 'number' || !Number.isInteger(p.windowNumber) || p.windowNumber < 0 || p.windowNumber > 9999) return 'windowNumber must be a whole number 0..9999';
  if (typeof p.serviceId !== 'string') return 'serviceId must be a string';
  if (typeof p.recall !== 'boolean') return 'recall must be true or false';
  if (typeof p.at !== 'number' || !Number.isFinite(p.at)) return 'at must be a time in ms';
  return undefined;
}
