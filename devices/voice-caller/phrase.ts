import { clipIdFor, normalizeText, type Lang, type Vocabulary } from './clip-vocabulary.js';
import { enDigit, enNumberWords, zhDigit, zhNumberWords } from './numerals.js';

/**
 * Builds what is said for one call in one language: the display text, the text a synthesizer
 * reads, and the clip sequence a clip player joins. Pure.
 */

export interface PhraseTemplates {
  call: string;
  recall: string;
}

export const DEFAULT_TEMPLATES: Readonly<Record<Lang, PhraseTemplates>> = {
  zh: { call: '请{ticket}号到{window}号窗口办理', recall: '请{ticket}号再次到{window}号窗口办理' },
  en: { call: 'Ticket {ticket}, please go to counter {window}', recall: 'Ticket {ticket}, once again, please go to counter {window}' },
};

export interface CallRequest {
  /** Ticket number as printed, e.g. A023. */
  number: string;
  windowNumber: number;
  recall: boolean;
}

export interface Phrase {
  lang: Lang;
  /** For people and displays: 请 A023 号到 7 号窗口办理. */
  text: string;
  /** For a synthesizer: numbers spelled out the way they must be read (请A零二三号到七号窗口办理). */
  spoken: string;
  /** Clip ids in playing order. */
  clips: string[];
  /** Template text the vocabulary has no clip for (the clip engine cannot say it). */
  missing: string[];
}

export class PhraseError extends Error {}

const PLACEHOLDER = /\{([a-z]+)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['ticket', 'window']);

/** Throws PhraseError naming the problem when a template cannot be used. */
export function checkTemplate(template: string): void {
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!KNOWN_PLACEHOLDERS.has(match[1] ?? '')) throw new PhraseError(`template "${template}": unknown placeholder {${match[1]}}; use {ticket} and {window}`);
  }
  if (!template.includes('{ticket}')) throw new PhraseError(`template "${template}" must contain {ticket}`);
}

interface Words {
  words: string[];
  clips: string[];
}

/** A023 → A 零 二 三 / A zero two three: letters as letters, digits one by one. */
function ticketWords(lang: Lang, number: string): Words {
  const words: string[] = [];
  for (const char of number.toUpperCase()) {
    if (/[A-Z]/.test(char)) words.push(char);
    else if (/[0-9]/.test(char)) words.push(lang === 'zh' ? zhDigit(Number(char)) : enDigit(Number(char)));
    // Separators such as '-' are not read.
  }
  return { words, clips: words.map((word) => clipIdFor(lang, word)) };
}

function windowWords(lang: Lang, windowNumber: number): Words {
  const words = lang === 'zh' ? zhNumberWords(windowNumber) : enNumberWords(windowNumber);
  return { words, clips: words.map((word) => clipIdFor(lang, word)) };
}

/** Greedy longest match of literal template text against the vocabulary. */
function literalClips(lang: Lang, literal: string, vocabulary: Vocabulary): { clips: string[]; missing: string[] } {
  const known = vocabulary.get(lang) ?? new Map<string, string>();
  const clips: string[] = [];
  const missing: string[] = [];
  if (lang === 'zh') {
    // Punctuation and spaces are pauses in the voice, not clips.
    const text = literal.replace(/[\s，。、,.!！?？:：;；]+/g, '');
    const longest = Math.max(1, ...[...known.keys()].map((key) => key.length));
    let unknown = '';
    for (let i = 0; i < text.length; ) {
      let matched = false;
      for (let size = Math.min(longest, text.length - i); size > 0; size--) {
        const id = known.get(text.slice(i, i + size));
        if (id === undefined) continue;
        if (unknown) missing.push(unknown);
        unknown = '';
        clips.push(id);
        i += size;
        matched = true;
        break;
      }
      if (!matched) unknown += text[i++];
    }
    if (unknown) missing.push(unknown);
    return { clips, missing };
  }
  const words = normalizeText(lang, literal).split(' ').filter(Boolean);
  const longest = Math.max(1, ...[...known.keys()].map((key) => key.split(' ').length));
  for (let i = 0; i < words.length; ) {
    let matched = false;
    for (let size = Math.min(longest, words.length - i); size > 0; size--) {
      const id = known.get(words.slice(i, i + size).join(' '));
      if (id === undefined) continue;
      clips.push(id);
      i += size;
      matched = true;
      break;
    }
    if (!matched) missing.push(words[i++] as string);
  }
  return { clips, missing };
}

const CJK = '\\u3000-\\u303f\\u4e00-\\u9fff\\uff00-\\uffef';

/** 请A023号 → 请 A023 号: a space where Latin letters or digits meet Chinese characters, as halls print it. */
function spaceMixedScript(text: string): string {
  return text.replace(new RegExp(`([${CJK}])([A-Za-z0-9])`, 'g'), '$1 $2').replace(new RegExp(`([A-Za-z0-9])([${CJK}])`, 'g'), '$1 $2');
}

export function buildPhrase(request: CallRequest, lang: Lang, template: string, vocabulary: Vocabulary): Phrase {
  checkTemplate(template);
  const ticket = ticketWords(lang, request.number);
  const window = windowWords(lang, request.windowNumber);
  const joinWords = (words: string[]): string => (lang === 'zh' ? words.join('').replace(/([A-Z])(?=[A-Z])/g, '$1 ') : words.join(' '));
  let text = '';
  let spoken = '';
  const clips: string[] = [];
  const missing: string[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const literal = template.slice(last, match.index);
    const literalResult = literalClips(lang, literal, vocabulary);
    clips.push(...literalResult.clips);
    missing.push(...literalResult.missing);
    const slot = match[1] === 'ticket' ? ticket : window;
    text += literal + (match[1] === 'ticket' ? request.number : String(request.windowNumber));
    spoken += literal + joinWords(slot.words);
    clips.push(...slot.clips);
    last = match.index + match[0].length;
  }
  const tail = template.slice(last);
  const tailResult = literalClips(lang, tail, vocabulary);
  clips.push(...tailResult.clips);
  missing.push(...tailResult.missing);
  text += tail;
  spoken += tail;
  return { lang, text: lang === 'zh' ? spaceMixedScript(text) : text, spoken, clips, missing };
}
