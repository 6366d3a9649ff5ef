import type { AnnouncementPlan } from './announcement-plan.js';
import { ClipLibrary, ClipSetError } from './clip-library.js';
import { speak, type Voices } from './espeak.js';
import { concatPcm, durationMs, encodeWav, silence, synthChime, type Pcm } from './wav.js';

export interface RenderedAnnouncement {
  /** A complete WAV file. */
  wav: Buffer;
  durationMs: number;
}

/** Turns a plan into sound. Renderers are chosen by the `engine` option. */
export interface Renderer {
  readonly engine: 'clips' | 'espeak';
  render(plan: AnnouncementPlan): Promise<RenderedAnnouncement>;
}

function rendered(pcm: Pcm): RenderedAnnouncement {
  return { wav: encodeWav(pcm), durationMs: durationMs(pcm) };
}

/** Joins prerecorded clips back to back, the way hall systems do: fast, and a hall can record its own voice. */
export class ClipRenderer implements Renderer {
  readonly engine = 'clips' as const;
  constructor(readonly library: ClipLibrary) {}

  async render(plan: AnnouncementPlan): Promise<RenderedAnnouncement> {
    const missing = this.library.missing(plan.sequence);
    if (missing.length > 0) throw new ClipSetError(`clip set ${this.library.dir} lacks ${missing.join(', ')} for "${plan.text}"`);
    return rendered(this.library.join(plan.sequence));
  }
}

/**
 * espeak-ng reads each phrase whole (better prosody than joined words, no clip set needed); the
 * chime and the pauses are added in code at espeak-ng's rate, following the same plan shape.
 */
export class EspeakRenderer implements Renderer {
  readonly engine = 'espeak' as const;
  constructor(private readonly settings: { voices: Voices; speed: number; pauseMs: number }) {}

  async render(plan: AnnouncementPlan): Promise<RenderedAnnouncement> {
    const spoken = await Promise.all(plan.phrases.map((phrase) => speak(phrase.spoken, { voice: this.settings.voices[phrase.lang], speed: this.settings.speed })));
    const first = spoken[0];
    if (!first) throw new Error('an announcement needs at least one language');
    const rate = first.format.sampleRate;
    const pause = silence(rate, this.settings.pauseMs);
    const pass: Array<{ name: string; pcm: Pcm }> = spoken.flatMap((pcm, i) => {
      const part = { name: `phrase ${plan.phrases[i]?.lang}`, pcm };
      return i === 0 ? [part] : [{ name: 'pause', pcm: pause }, part];
    });
    const parts: Array<{ name: string; pcm: Pcm }> = plan.chime ? [{ name: 'chime', pcm: synthChime(rate) }] : [];
    for (let i = 0; i < plan.repeat; i++) parts.push(...(i === 0 ? pass : [{ name: 'pause', pcm: pause }, ...pass]));
    return rendered(concatPcm(parts));
  }
}
