import { planAnnouncement, type AnnouncementRequest } from './announcement-plan.js';
import { ClipLibrary } from './clip-library.js';
import { defaultClipDefinitions, vocabularyOf } from './clip-vocabulary.js';
import { planSettingsOf, voiceCallerOptionsSchema } from './options.js';
import { ClipRenderer, EspeakRenderer, type Renderer } from './renderer.js';

/**
 * A call's announcement as one WAV file, exactly as a voice caller configured with `options`
 * would play it (same plan, same clip set or espeak voices): for other outputs of the same
 * call, such as the `/display` page on a hall TV, which plays it in the browser.
 */
export interface AnnouncementWavMaker {
  readonly engine: 'clips' | 'espeak';
  wav(request: AnnouncementRequest): Promise<Buffer>;
}

/** Throws ZodError for options a voice caller would refuse, ClipSetError for a broken clip set. */
export async function announcementWavMaker(rawOptions: unknown): Promise<AnnouncementWavMaker> {
  const options = voiceCallerOptionsSchema.parse(rawOptions ?? {});
  let renderer: Renderer;
  let vocabulary = vocabularyOf(defaultClipDefinitions());
  if (options.engine === 'clips') {
    const library = await ClipLibrary.load(options.clipsDir as string);
    renderer = new ClipRenderer(library);
    vocabulary = library.vocabulary();
  } else {
    renderer = new EspeakRenderer({ voices: options.voices, speed: options.speed, pauseMs: options.pauseMs });
  }
  const settings = planSettingsOf(options);
  return {
    engine: options.engine,
    wav: async (request) => (await renderer.render(planAnnouncement(request, settings, vocabulary))).wav,
  };
}
