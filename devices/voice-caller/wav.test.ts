import { describe, expect, it } from 'vitest';
import { concatPcm, durationMs, encodeWav, parseWav, silence, synthChime, WavError } from './wav.js';

describe('wav', () => {
  it('round-trips PCM through a header', () => {
    const chime = synthChime(16000);
    const back = parseWav(encodeWav(chime));
    expect(back.format).toEqual({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
    expect(back.data.equals(chime.data)).toBe(true);
    expect(durationMs(back)).toBeCloseTo(950, 0);
  });

  it('reads a streamed header whose sizes are placeholders (espeak-ng --stdout)', () => {
    const file = encodeWav(silence(22050, 100));
    file.writeUInt32LE(0x7ffff000, 4);
    file.writeUInt32LE(0x7ffff000, 40);
    expect(durationMs(parseWav(file))).toBeCloseTo(100, 0);
  });

  it('joins segments without gaps: duration is the sum', () => {
    const joined = concatPcm([
      { name: 'a', pcm: silence(22050, 100) },
      { name: 'b', pcm: synthChime(22050) },
    ]);
    expect(joined.data.length).toBe(silence(22050, 100).data.length + synthChime(22050).data.length);
  });

  it('refuses to join different formats, naming the clip', () => {
    expect(() => concatPcm([{ name: 'a', pcm: silence(22050, 10) }, { name: 'zh-qing', pcm: silence(16000, 10) }])).toThrow(/zh-qing is 16000 Hz/);
  });

  it('rejects files that are not PCM WAV', () => {
    expect(() => parseWav(Buffer.from('hello world, not a wav'))).toThrow(WavError);
    const noData = encodeWav(silence(8000, 1)).subarray(0, 36);
    expect(() => parseWav(noData, 'cut.wav')).toThrow(/cut.wav: no data chunk/);
    const float = encodeWav(silence(8000, 1));
    float.writeUInt16LE(3, 20);
    expect(() => parseWav(float)).toThrow(/not PCM/);
  });
});
