import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAnnouncement } from '../../devices/voice-caller/announcement-plan.js';
import { buildDefaultClips } from '../../devices/voice-caller/build-clips.js';
import type { ClipManifest } from '../../devices/voice-caller/clip-manifest.js';
import { ClipLibrary, ClipSetError } from '../../devices/voice-caller/clip-library.js';
import { DEFAULT_VOICES, phonemes } from '../../devices/voice-caller/espeak.js';
import { ClipRenderer, EspeakRenderer } from '../../devices/voice-caller/renderer.js';
import { encodeWav, parseWav, silence } from '../../devices/voice-caller/wav.js';

/** Duration in seconds as sox reads the file (not our own parser). */
function soxSeconds(file: string): number {
  return Number(execFileSync('sox', ['--i', '-D', file], { encoding: 'utf8' }).trim());
}

/** RMS amplitude (0..1) and length as `sox file -n stat` measures them. */
function soxStat(file: string): { rms: number; seconds: number } {
  // sox writes stat to stderr.
  const out = execFileSync('sh', ['-c', 'sox "$0" -n stat 2>&1', file], { encoding: 'utf8' });
  const rms = /RMS\s+amplitude:\s+([0-9.]+)/.exec(out);
  const length = /Length \(seconds\):\s+([0-9.]+)/.exec(out);
  if (!rms || !length) throw new Error(`unexpected sox stat output: ${out}`);
  return { rms: Number(rms[1]), seconds: Number(length[1]) };
}

let dir: string;
let clipsDir: string;
let manifest: ClipManifest;
let library: ClipLibrary;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voice-render-'));
  clipsDir = join(dir, 'clips');
  manifest = await buildDefaultClips(clipsDir);
  library = await ClipLibrary.load(clipsDir);
  // espeak renders every clip: tens of seconds on a loaded 2-core box, so a generous bound.
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const request = { number: 'A023', windowNumber: 7, recall: false, serviceId: 'social' };

describe('default clip set (espeak-ng + sox)', () => {
  it('has every clip, in one format, with sane durations', async () => {
    expect(manifest.format).toEqual({ sampleRate: 22050, channels: 1, bitsPerSample: 16 });
    expect(manifest.clips.length).toBeGreaterThan(100);
    const ids = manifest.clips.map((clip) => clip.id);
    for (const id of ['chime', 'pause', 'zh-qing', 'zh-chuangkou', 'zh-letter-Z', 'zh-digit-9', 'zh-shi', 'en-please-go-to-counter', 'en-ninety', 'en-letter-Q']) expect(ids).toContain(id);
    for (const clip of manifest.clips) {
      if (clip.lang === 'none') continue;
      // A spoken word or letter, trimmed: longer than a click, shorter than a sentence.
      expect(clip.durationMs, clip.id).toBeGreaterThan(80);
      expect(clip.durationMs, clip.id).toBeLessThan(2000);
    }
    expect(soxSeconds(join(clipsDir, 'pause.wav'))).toBeCloseTo(0.4, 2);
    expect(soxSeconds(join(clipsDir, 'chime.wav'))).toBeCloseTo(0.95, 2);
  });

  it('clips are not silent (sox stat)', () => {
    for (const id of ['chime', 'zh-qing', 'zh-chuangkou', 'zh-digit-7', 'en-ticket', 'en-letter-A']) {
      expect(soxStat(join(clipsDir, `${id}.wav`)).rms, id).toBeGreaterThan(0.02);
    }
    expect(soxStat(join(clipsDir, 'pause.wav')).rms).toBe(0);
  });

  it('refuses an unknown language before building anything', async () => {
    await expect(buildDefaultClips(join(dir, 'fr'), { languages: ['fr' as 'zh'] })).rejects.toThrow(/unknown language "fr"/);
  });

  it('a clip replaced in another format is refused with the file named', async () => {
    const broken = join(dir, 'broken');
    await buildLike(broken);
    await writeFile(join(broken, 'zh-qing.wav'), encodeWav(silence(16000, 300)));
    await expect(ClipLibrary.load(broken)).rejects.toThrow(/zh-qing\.wav is 16000 Hz 16-bit mono, the set is 22050 Hz/);
    await expect(ClipLibrary.load(join(dir, 'nowhere'))).rejects.toThrow(ClipSetError);
    await expect(ClipLibrary.load(join(dir, 'nowhere'))).rejects.toThrow(/hall-edge voice build-clips --out/);
  });
});

/** Copies the built set (cheaper than building another). */
async function buildLike(target: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(target, { recursive: true });
  await copyFile(join(clipsDir, 'manifest.json'), join(target, 'manifest.json'));
  await Promise.all(manifest.clips.map((clip) => copyFile(join(clipsDir, clip.file), join(target, clip.file))));
}

describe('clips engine', () => {
  it('joins the clips in plan order without gaps: the file is exactly its clips back to back', async () => {
    const plan = planAnnouncement(request, { languages: ['zh', 'en'], repeat: 2, chime: true }, library.vocabulary());
    const rendered = await new ClipRenderer(library).render(plan);
    const file = join(dir, 'A023-clips.wav');
    await writeFile(file, rendered.wav);

    const sumMs = plan.sequence.reduce((sum, id) => sum + (manifest.clips.find((clip) => clip.id === id)?.durationMs ?? Number.NaN), 0);
    expect(soxSeconds(file) * 1000).toBeCloseTo(sumMs, -1);
    expect(rendered.durationMs).toBeCloseTo(sumMs, 0);
    const stat = soxStat(file);
    expect(stat.rms).toBeGreaterThan(0.02);
    // Chime, ~11 Mandarin + ~7 English clips, twice: several seconds, not a minute.
    expect(stat.seconds).toBeGreaterThan(8);
    expect(stat.seconds).toBeLessThan(40);

    // Order: walk the rendered samples and find each clip's own samples at its place.
    const data = parseWav(await readFile(file)).data;
    let offset = 0;
    for (const id of plan.sequence) {
      const clip = library.clip(id).data;
      expect(data.subarray(offset, offset + clip.length).equals(clip), `${id} at byte ${offset}`).toBe(true);
      offset += clip.length;
    }
    expect(offset).toBe(data.length);
  });

  it('refuses a plan needing a clip the set lacks, naming it', async () => {
    const plan = planAnnouncement(request, { languages: ['zh'], repeat: 1, chime: false, templates: { zh: { call: '请{ticket}号到{window}号柜台' } } }, library.vocabulary());
    expect(plan.phrases[0]?.missing).toEqual(['柜台']);
    const custom = { ...plan, sequence: [...plan.sequence, 'zh-guitai'] };
    await expect(new ClipRenderer(library).render(custom)).rejects.toThrow(/lacks zh-guitai/);
  });
});

describe('espeak engine', () => {
  it('the Mandarin voice reads every character as Mandarin (no English fallback)', async () => {
    const said = await phonemes('请A零二三号到七号窗口办理再次十二', DEFAULT_VOICES.zh);
    expect(said).not.toContain('(en)');
    // 请 qing3, 号 hao4, 窗 chuang1: tone-marked Mandarin syllables.
    expect(said).toMatch(/tS;h'i\d+N/);
    expect(said).toMatch(/X'Au51/);
    expect(said).toMatch(/ts\.hw'A55N/);
  });

  it('renders a Mandarin and English call that is audible and of sane length', async () => {
    const renderer = new EspeakRenderer({ voices: DEFAULT_VOICES, speed: 150, pauseMs: 400 });
    const zhOnce = await renderer.render(planAnnouncement(request, { languages: ['zh'], repeat: 1, chime: false }, library.vocabulary()));
    const both = await renderer.render(planAnnouncement(request, { languages: ['zh', 'en'], repeat: 2, chime: true }, library.vocabulary()));
    const zhFile = join(dir, 'A023-zh-espeak.wav');
    const bothFile = join(dir, 'A023-both-espeak.wav');
    await writeFile(zhFile, zhOnce.wav);
    await writeFile(bothFile, both.wav);

    const zh = soxStat(zhFile);
    expect(zh.rms).toBeGreaterThan(0.02);
    // 13 syllables at a calm pace.
    expect(zh.seconds).toBeGreaterThan(1.5);
    expect(zh.seconds).toBeLessThan(8);
    expect(soxSeconds(zhFile)).toBeCloseTo(zhOnce.durationMs / 1000, 2);

    const whole = soxStat(bothFile);
    expect(whole.rms).toBeGreaterThan(0.02);
    // Chime + two passes of both languages: more than twice the Mandarin alone.
    expect(whole.seconds).toBeGreaterThan(2 * zh.seconds + 0.95);
    expect(whole.seconds).toBeLessThan(40);
  });
});
