import { EN_NUMBER_VOCABULARY, ZH_NUMBER_VOCABULARY } from './numerals.js';

/** The languages a call is announced in. */
export type Lang = 'zh' | 'en';
export const LANGS: readonly Lang[] = ['zh', 'en'];

/** Two clips every set has besides words: the chime before a call and the gap between phrases. */
export const CHIME_CLIP = 'chime';
export const PAUSE_CLIP = 'pause';

/** One recorded (or synthesized) segment: a syllable, word or short phrase. */
export interface ClipDefinition {
  id: string;
  /** `none` for the chime and the pause. */
  lang: Lang | 'none';
  /** What the clip says, exactly as a template or the number reading writes it. */
  text: string;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const ZH_WORD_IDS: Record<string, string> = {
  请: 'qing', 号: 'hao', 到: 'dao', 窗口: 'chuangkou', 办理: 'banli', 再次: 'zaici',
  零: 'digit-0', 一: 'digit-1', 二: 'digit-2', 三: 'digit-3', 四: 'digit-4', 五: 'digit-5', 六: 'digit-6', 七: 'digit-7', 八: 'digit-8', 九: 'digit-9',
  十: 'shi', 百: 'bai', 千: 'qian',
};

/** Clip id of a word in a language: stable names a hall uses to replace a clip with a recording. */
export function clipIdFor(lang: Lang, word: string): string {
  if (/^[A-Z]$/.test(word)) return `${lang}-letter-${word}`;
  if (lang === 'zh') {
    const id = ZH_WORD_IDS[word];
    if (id !== undefined) return `zh-${id}`;
  }
  return `${lang}-${word.toLowerCase().trim().replace(/[^a-z0-9\u4e00-\u9fff]+/g, '-')}`;
}

/** The default clip set: everything the default templates and number readings need. */
export function defaultClipDefinitions(): ClipDefinition[] {
  const zhWords = ['请', '号', '到', '窗口', '办理', '再次', ...ZH_NUMBER_VOCABULARY];
  const enWords = ['ticket', 'please go to counter', 'once again', ...EN_NUMBER_VOCABULARY];
  const uniq = (words: string[]): string[] => [...new Set(words)];
  return [
    { id: CHIME_CLIP, lang: 'none', text: '' },
    { id: PAUSE_CLIP, lang: 'none', text: '' },
    ...uniq(zhWords).map((text) => ({ id: clipIdFor('zh', text), lang: 'zh' as const, text })),
    ...LETTERS.map((text) => ({ id: clipIdFor('zh', text), lang: 'zh' as const, text })),
    ...uniq(enWords).map((text) => ({ id: clipIdFor('en', text), lang: 'en' as const, text })),
    ...LETTERS.map((text) => ({ id: clipIdFor('en', text), lang: 'en' as const, text })),
  ];
}

/** Text → clip id per language, for tokenizing template text into clips. */
export type Vocabulary = ReadonlyMap<Lang, ReadonlyMap<string, string>>;

export function vocabularyOf(clips: readonly ClipDefinition[]): Vocabulary {
  const byLang = new Map<Lang, Map<string, string>>(LANGS.map((lang) => [lang, new Map()]));
  for (const clip of clips) {
    if (clip.lang === 'none') continue;
    byLang.get(clip.lang)?.set(normalizeText(clip.lang, clip.text), clip.id);
  }
  return byLang;
}

/** Case and spacing do not matter for English words; Chinese text is matched as written. */
export function normalizeText(lang: Lang, text: string): string {
  return lang === 'en' ? text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).join(' ') : text.replace(/\s+/g, '');
}
