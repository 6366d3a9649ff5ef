import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planAnnouncement } from './announcement-plan.js';
import { defaultClipDefinitions, vocabularyOf } from './clip-vocabulary.js';
import { enNumberWords, zhNumberWords } from './numerals.js';
import { buildPhrase, DEFAULT_TEMPLATES, PhraseError } from './phrase.js';

const vocabulary = vocabularyOf(defaultClipDefinitions());
const call = { number: 'A023', windowNumber: 7, recall: false };

describe('Chinese number reading', () => {
  it.each([
    [0, '零'],
    [7, '七'],
    [10, '十'],
    [12, '十二'],
    [20, '二十'],
    [21, '二十一'],
    [99, '九十九'],
    [100, '一百'],
    [101, '一百零一'],
    [110, '一百一十'],
    [1001, '一千零一'],
    [1010, '一千零一十'],
    [1100, '一千一百'],
  ])('%i → %s', (n, reading) => {
    expect(zhNumberWords(n).join('')).toBe(reading);
  });

  // An independent reference for 1..99: the rule a Mandarin speaker learns.
  const DIGITS = '零一二三四五六七八九';
  const reference = (n: number): string => {
    const tens = Math.floor(n / 10);
    const ones = n % 10;
    const head = tens === 0 ? '' : tens === 1 ? '十' : `${DIGITS[tens]}十`;
    return head + (ones === 0 ? '' : DIGITS[ones]);
  };

  it('reads 1..99 like the spoken rule', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 99 }), (n) => zhNumberWords(n).join('') === reference(n)), { numRuns: 500 });
  });

  it('never has two 零 in a row, never ends in 零, for 1..9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), (n) => {
        const text = zhNumberWords(n).join('');
        return !text.includes('零零') && !text.endsWith('零') && text.length > 0;
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses numbers it cannot read', () => {
    expect(() => zhNumberWords(-1)).toThrow(RangeError);
    expect(() => zhNumberWords(10000)).toThrow(RangeError);
    expect(() => zhNumberWords(1.5)).toThrow(RangeError);
  });
});

describe('English number reading', () => {
  it.each([
    [7, 'seven'],
    [12, 'twelve'],
    [20, 'twenty'],
    [21, 'twenty one'],
    [101, 'one hundred one'],
    [1200, 'one thousand two hundred'],
  ])('%i → %s', (n, reading) => {
    expect(enNumberWords(n).join(' ')).toBe(reading);
  });
});

describe('Mandarin phrase', () => {
  it('calls a ticket to a window', () => {
    const phrase = buildPhrase(call, 'zh', DEFAULT_TEMPLATES.zh.call, vocabulary);
    expect(phrase.text).toBe('请 A023 号到 7 号窗口办理');
    expect(phrase.spoken).toBe('请A零二三号到七号窗口办理');
    expect(phrase.clips).toEqual(['zh-qing', 'zh-letter-A', 'zh-digit-0', 'zh-digit-2', 'zh-digit-3', 'zh-hao', 'zh-dao', 'zh-digit-7', 'zh-hao', 'zh-chuangkou', 'zh-banli']);
    expect(phrase.missing).toEqual([]);
  });

  it('reads window numbers as numbers', () => {
    const clips = (windowNumber: number): string[] => buildPhrase({ ...call, windowNumber }, 'zh', '{ticket}{window}', vocabulary).clips.slice(4);
    expect(clips(12)).toEqual(['zh-shi', 'zh-digit-2']);
    expect(clips(21)).toEqual(['zh-digit-2', 'zh-shi', 'zh-digit-1']);
    expect(clips(101)).toEqual(['zh-digit-1', 'zh-bai', 'zh-digit-0', 'zh-digit-1']);
    expect(buildPhrase({ ...call, windowNumber: 21 }, 'zh', DEFAULT_TEMPLATES.zh.call, vocabulary).spoken).toBe('请A零二三号到二十一号窗口办理');
  });

  it('says a recall with 再次', () => {
    const phrase = buildPhrase({ ...call, recall: true }, 'zh', DEFAULT_TEMPLATES.zh.recall, vocabulary);
    expect(phrase.text).toBe('请 A023 号再次到 7 号窗口办理');
    expect(phrase.clips.slice(5, 8)).toEqual(['zh-hao', 'zh-zaici', 'zh-dao']);
  });

  it('reads multi-letter tickets letter by letter and ignores separators', () => {
    const phrase = buildPhrase({ ...call, number: 'VIP-05' }, 'zh', DEFAULT_TEMPLATES.zh.call, vocabulary);
    expect(phrase.clips.slice(1, 6)).toEqual(['zh-letter-V', 'zh-letter-I', 'zh-letter-P', 'zh-digit-0', 'zh-digit-5']);
    expect(phrase.spoken).toBe('请V I P零五号到七号窗口办理');
  });

  it('reports template text that has no clip', () => {
    const phrase = buildPhrase(call, 'zh', '请{ticket}号到{window}号柜台办理', vocabulary);
    expect(phrase.missing).toEqual(['柜台']);
    expect(phrase.clips).toContain('zh-banli');
  });

  it('refuses unknown placeholders', () => {
    expect(() => buildPhrase(call, 'zh', '请{ticket}号到{counter}', vocabulary)).toThrow(PhraseError);
    expect(() => buildPhrase(call, 'zh', '请到窗口', vocabulary)).toThrow(/must contain \{ticket\}/);
  });
});

describe('English phrase', () => {
  it('calls a ticket to a counter, digits one by one', () => {
    const phrase = buildPhrase(call, 'en', DEFAULT_TEMPLATES.en.call, vocabulary);
    expect(phrase.text).toBe('Ticket A023, please go to counter 7');
    expect(phrase.spoken).toBe('Ticket A zero two three, please go to counter seven');
    expect(phrase.clips).toEqual(['en-ticket', 'en-letter-A', 'en-zero', 'en-two', 'en-three', 'en-please-go-to-counter', 'en-seven']);
    expect(phrase.missing).toEqual([]);
  });

  it('says a recall with once again', () => {
    const phrase = buildPhrase({ ...call, windowNumber: 21, recall: true }, 'en', DEFAULT_TEMPLATES.en.recall, vocabulary);
    expect(phrase.text).toBe('Ticket A023, once again, please go to counter 21');
    expect(phrase.clips).toEqual(['en-ticket', 'en-letter-A', 'en-zero', 'en-two', 'en-three', 'en-once-again', 'en-please-go-to-counter', 'en-twenty', 'en-one']);
  });
});

describe('announcement plan', () => {
  const request = { ...call, serviceId: 'social' };

  it('plays chime once, then the languages, repeated with pauses', () => {
    const plan = planAnnouncement(request, { languages: ['zh', 'en'], repeat: 2, chime: true }, vocabulary);
    const zh = plan.phrases[0]?.clips ?? [];
    const en = plan.phrases[1]?.clips ?? [];
    expect(zh.length).toBeGreaterThan(0);
    expect(plan.pass).toEqual([...zh, 'pause', ...en]);
    expect(plan.sequence).toEqual(['chime', ...zh, 'pause', ...en, 'pause', ...zh, 'pause', ...en]);
    expect(plan.text).toBe('请 A023 号到 7 号窗口办理 / Ticket A023, please go to counter 7');
  });

  it('uses per-service templates before hall-wide ones', () => {
    const templates = { zh: { call: '请{ticket}号到{window}号窗口' }, perService: { medical: { zh: { call: '请{ticket}号到{window}号窗口办理' } } } };
    const hallWide = planAnnouncement(request, { languages: ['zh'], repeat: 1, chime: false, templates }, vocabulary);
    const medical = planAnnouncement({ ...request, serviceId: 'medical' }, { languages: ['zh'], repeat: 1, chime: false, templates }, vocabulary);
    expect(hallWide.sequence.at(-1)).toBe('zh-chuangkou');
    expect(medical.sequence.at(-1)).toBe('zh-banli');
    // The recall wording was not overridden: the default applies.
    const recall = planAnnouncement({ ...request, recall: true }, { languages: ['zh'], repeat: 1, chime: false, templates }, vocabulary);
    expect(recall.text).toBe('请 A023 号再次到 7 号窗口办理');
  });

  it('refuses repeat 0', () => {
    expect(() => planAnnouncement(request, { languages: ['zh'], repeat: 0, chime: true }, vocabulary)).toThrow(RangeError);
  });
});
