import { z } from 'zod';
import type { PlanSettings } from './announcement-plan.js';
import { checkTemplate, PhraseError } from './phrase.js';

const template = z.string().superRefine((text, ctx) => {
  try {
    checkTemplate(text);
  } catch (err) {
    if (err instanceof PhraseError) ctx.addIssue({ code: 'custom', message: err.message });
    else throw err;
  }
});
const templatePair = z.object({ call: template.optional(), recall: template.optional() }).strict();
const templateSet = z.object({ zh: templatePair.optional(), en: templatePair.optional() }).strict();

const sink = z.discriminatedUnion('type', [
  /** The box's own sound card through `aplay -D <device>`. */
  z.object({ type: z.literal('alsa'), device: z.string().min(1).default('default') }).strict(),
  /** Networked voice boxes on MQTT (firmware-protocols/voice-box.md). */
  z.object({ type: z.literal('mqtt'), playedTimeoutMs: z.number().int().min(100).max(120_000).default(10_000) }).strict(),
  /** Every announcement written as a WAV file into `dir` (demos, tests). */
  z.object({ type: z.literal('file'), dir: z.string().min(1) }).strict(),
  /** Any player taking a file: `args` may contain `{file}`. */
  z.object({ type: z.literal('command'), command: z.string().min(1), args: z.array(z.string()).default(['{file}']) }).strict(),
]);

export const voiceCallerOptionsSchema = z
  .object({
    /** `clips`: prerecorded segments joined (needs clipsDir); `espeak`: espeak-ng reads each phrase. */
    engine: z.enum(['clips', 'espeak']).default('clips'),
    /** A directory made by `hall-edge voice build-clips --out DIR` (or a hall's own recordings with its manifest.json). */
    clipsDir: z.string().min(1).optional(),
    languages: z
      .array(z.enum(['zh', 'en']))
      .min(1)
      .refine((langs) => new Set(langs).size === langs.length, 'a language is listed twice')
      .default(['zh']),
    /** How many times the phrases are played per announcement (the chime plays once). */
    repeat: z.number().int().min(1).max(5).default(2),
    chime: z.boolean().default(true),
    /** espeak engine: silence between languages and repeats (a clip set has its own `pause` clip). */
    pauseMs: z.number().int().min(0).max(5000).default(400),
    voices: z.object({ zh: z.string().min(1).default('cmn-latn-pinyin'), en: z.string().min(1).default('en') }).strict().default({ zh: 'cmn-latn-pinyin', en: 'en' }),
    /** espeak engine: words per minute. */
    speed: z.number().int().min(80).max(400).default(150),
    sink: sink.default({ type: 'alsa', device: 'default' }),
    templates: templateSet.extend({ perService: z.record(z.string(), templateSet).optional() }).strict().optional(),
    /** Calls waiting beyond this are refused (logged and counted): a stuck speaker must not grow memory forever. */
    maxQueue: z.number().int().min(1).max(10_000).default(200),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.engine === 'clips' && !options.clipsDir) {
      ctx.addIssue({ code: 'custom', path: ['clipsDir'], message: 'engine "clips" needs clipsDir (make one with: hall-edge voice build-clips --out DIR)' });
    }
  });

export type VoiceCallerOptions = z.output<typeof voiceCallerOptionsSchema>;

/** How an announcement is planned under these options (the driver and announcement-wav agree). */
export function planSettingsOf(options: VoiceCallerOptions): PlanSettings {
  return { languages: options.languages, repeat: options.repeat, chime: options.chime, templates: options.templates };
}
