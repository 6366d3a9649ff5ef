import { CHIME_CLIP, PAUSE_CLIP, type Lang, type Vocabulary } from './clip-vocabulary.js';
import { buildPhrase, DEFAULT_TEMPLATES, type CallRequest, type Phrase, type PhraseTemplates } from './phrase.js';

/**
 * What one announcement plays, independent of how it is rendered: a chime, then one "pass"
 * (each language's phrase, a pause between languages) played `repeat` times with a pause
 * between passes. Pure; the clip renderer, the espeak renderer and a networked voice box all
 * follow this same shape, so their durations agree.
 */

export type TemplateSet = Partial<Record<Lang, Partial<PhraseTemplates>>>;

export interface TemplateConfig extends TemplateSet {
  /** Per service id: overrides the hall-wide templates for that service. */
  perService?: Record<string, TemplateSet>;
}

export interface AnnouncementRequest extends CallRequest {
  serviceId: string;
}

export interface PlanSettings {
  languages: readonly Lang[];
  /** How many times the phrases are played (the chime plays once). */
  repeat: number;
  chime: boolean;
  templates?: TemplateConfig;
}

export interface AnnouncementPlan {
  ticket: string;
  windowNumber: number;
  recall: boolean;
  phrases: Phrase[];
  chime: boolean;
  repeat: number;
  /** One pass: the phrases' clips in language order, PAUSE_CLIP between languages. */
  pass: string[];
  /** Everything in playing order: [chime] pass (pause pass)×(repeat-1). */
  sequence: string[];
  /** The phrases' display texts joined, for logs and the voice box. */
  text: string;
}

export function templateFor(request: { serviceId: string; recall: boolean }, lang: Lang, templates: TemplateConfig | undefined): string {
  const which = request.recall ? 'recall' : 'call';
  return templates?.perService?.[request.serviceId]?.[lang]?.[which] ?? templates?.[lang]?.[which] ?? DEFAULT_TEMPLATES[lang][which];
}

export function planAnnouncement(request: AnnouncementRequest, settings: PlanSettings, vocabulary: Vocabulary): AnnouncementPlan {
  if (!Number.isInteger(settings.repeat) || settings.repeat < 1) throw new RangeError(`repeat must be a whole number ≥ 1, got ${settings.repeat}`);
  const phrases = settings.languages.map((lang) => buildPhrase(request, lang, templateFor(request, lang, settings.templates), vocabulary));
  const pass = phrases.flatMap((phrase, index) => (index === 0 ? phrase.clips : [PAUSE_CLIP, ...phrase.clips]));
  const sequence = settings.chime ? [CHIME_CLIP] : [];
  for (let i = 0; i < settings.repeat; i++) sequence.push(...(i === 0 ? pass : [PAUSE_CLIP, ...pass]));
  return {
    ticket: request.number,
    windowNumber: request.windowNumber,
    recall: request.recall,
    phrases,
    chime: settings.chime,
    repeat: settings.repeat,
    pass,
    sequence,
    text: phrases.map((phrase) => phrase.text).join(' / '),
  };
}
