import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../src/platform/logger.js';
import { MANIFEST_FILE, type ClipManifest } from './clip-manifest.js';
import { CHIME_CLIP, defaultClipDefinitions, LANGS, PAUSE_CLIP, type ClipDefinition, type Lang } from './clip-vocabulary.js';
import { DEFAULT_VOICES, speak, type Voices } from './espeak.js';
import { runProcess } from './run-process.js';
import { durationMs, encodeWav, parseWav, silence } from './wav.js';

export interface BuildClipsOptions {
  /** One rate for the whole set (clips are joined without resampling). Default 22050, espeak-ng's own. */
  sampleRate?: number;
  voices?: Partial<Voices>;
  /** Words per minute. */
  speed?: number;
  /** Length of the `pause` clip between phrases and repeats. */
  pauseMs?: number;
  /** Languages to build clips for (default both); the chime and the pause are always built. */
  languages?: readonly Lang[];
  /** Extra clips (words of custom templates) to build alongside the defaults. */
  extraClips?: ClipDefinition[];
  log?: Logger;
}

/**
 * Builds a complete default clip set in `outDir` with espeak-ng (every word the default
 * templates and number readings need, in Mandarin and English), a chime synthesized by sox and a
 * silent pause, as 16-bit mono WAV at one rate, plus manifest.json. Entry point of
 * `hall-edge voice build-clips --out DIR`. Nothing online.
 */
export async function buildDefaultClips(outDir: string, options: BuildClipsOptions = {}): Promise<ClipManifest> {
  const sampleRate = options.sampleRate ?? 22050;
  const voices: Voices = { ...DEFAULT_VOICES, ...options.voices };
  const pauseMs = options.pauseMs ?? 400;
  await mkdir(outDir, { recursive: true });
  const languages = new Set<string>(options.languages ?? LANGS);
  for (const lang of languages) if (!(LANGS as readonly string[]).includes(lang)) throw new Error(`unknown language "${lang}"; use ${LANGS.join(', ')}`);
  const definitions = [...defaultClipDefinitions(), ...(options.extraClips ?? [])].filter((clip) => clip.lang === 'none' || languages.has(clip.lang));
  const ids = new Set<string>();
  for (const definition of definitions) {
    if (ids.has(definition.id)) throw new Error(`clip id "${definition.id}" defined twice`);
    ids.add(definition.id);
  }

  const entries: ClipManifest['clips'] = [];
  const make = async (definition: ClipDefinition): Promise<void> => {
    const file = `${definition.id}.wav`;
    const path = join(outDir, file);
    if (definition.id === CHIME_CLIP) await synthChimeWithSox(path, sampleRate);
    else if (definition.id === PAUSE_CLIP) await writeFile(path, encodeWav(silence(sampleRate, pauseMs)));
    else if (definition.lang === 'none') throw new Error(`clip "${definition.id}" has no language and is not the chime or the pause`);
    else await speakClip(definition.text, voices[definition.lang], options.speed ?? 150, sampleRate, path);
    const pcm = parseWav(await readFile(path), file);
    entries.push({ id: definition.id, lang: definition.lang, text: definition.text, file, durationMs: Math.round(durationMs(pcm) * 100) / 100 });
  };
  // Two at a time: the box has two cores and espeak-ng/sox are single-threaded.
  const queue = [...definitions];
  await Promise.all(
    [0, 1].map(async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await make(next);
    }),
  );

  const order = new Map(definitions.map((d, i) => [d.id, i]));
  entries.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  const version = await runProcess('espeak-ng', ['--version']).then(
    (r) => r.stdout.toString('utf8').trim().split('\n')[0] ?? 'espeak-ng',
    () => 'espeak-ng',
  );
  const manifest: ClipManifest = {
    version: 1,
    format: { sampleRate, channels: 1, bitsPerSample: 16 },
    generator: `${version}; voices zh=${voices.zh} en=${voices.en}; chime by sox synth`,
    clips: entries,
  };
  await writeFile(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  options.log?.info({ dir: outDir, clips: entries.length, sampleRate }, 'voice clip set built');
  return manifest;
}

/**
 * One word: espeak-ng, then sox trims the leading and trailing silence (clips are joined
 * back to back, so their own silence would be the gap) and converts to the set's rate.
 */
async function speakClip(text: string, voice: string, speed: number, sampleRate: number, path: string): Promise<void> {
  const pcm = await speak(text, { voice, speed });
  const trim = ['silence', '1', '0.01', '0.5%', 'reverse', 'silence', '1', '0.01', '0.5%', 'reverse'];
  // A short tail keeps words apart when joined; 30 ms is below what a listener hears as a gap.
  await runProcess('sox', ['-t', 'wav', '-', '-b', '16', '-c', '1', '-r', String(sampleRate), path, ...trim, 'pad', '0', '0.03'], {
    input: encodeWav(pcm),
    timeoutMs: 20_000,
  });
}

async function synthChimeWithSox(path: string, sampleRate: number): Promise<void> {
  await runProcess(
    'sox',
    ['-n', '-r', String(sampleRate), '-b', '16', '-c', '1', path, 'synth', '0.35', 'sine', '784', 'fade', 'q', '0.01', '0.35', '0.3', ':', 'synth', '0.6', 'sine', '659', 'fade', 'q', '0.01', '0.6', '0.55', 'vol', '0.5'],
    { timeoutMs: 20_000 },
  );
}
