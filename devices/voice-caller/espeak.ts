import type { Lang } from './clip-vocabulary.js';
import { runProcess } from './run-process.js';
import { parseWav, type Pcm } from './wav.js';

/** espeak-ng voices per language, as `-v` names. */
export type Voices = Record<Lang, string>;

/**
 * `cmn` in espeak-ng 1.51 turns many characters into pinyin with tone digits and then reads
 * that pinyin as English ("请" → "qing three"); `cmn-latn-pinyin` reads the same pinyin as
 * Mandarin syllables. Measured with `espeak-ng -x`; see test/integration/voice-render.test.ts.
 */
export const DEFAULT_VOICES: Voices = { zh: 'cmn-latn-pinyin', en: 'en' };

export interface SpeakOptions {
  voice: string;
  /** Words per minute; espeak's default is 175, a hall wants it calmer. */
  speed?: number;
  timeoutMs?: number;
}

/** Synthesizes text to PCM (espeak-ng's native 22050 Hz 16-bit mono). Text goes on stdin, never as an argument. */
export async function speak(text: string, options: SpeakOptions): Promise<Pcm> {
  const args = ['-v', options.voice, '-s', String(options.speed ?? 150), '-z', '--stdin', '--stdout'];
  const result = await runProcess('espeak-ng', args, { input: text, timeoutMs: options.timeoutMs ?? 20_000 });
  return parseWav(result.stdout, `espeak-ng -v ${options.voice}`);
}

/** The phonemes espeak-ng would say, for checking that a voice reads text the intended way. */
export async function phonemes(text: string, voice: string): Promise<string> {
  const result = await runProcess('espeak-ng', ['-v', voice, '-q', '-x', '--stdin'], { input: text, timeoutMs: 10_000 });
  return result.stdout.toString('utf8').trim();
}
