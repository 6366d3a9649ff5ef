/**
 * Just enough RIFF/WAVE to join clips without gaps: read a PCM file's format and samples,
 * concatenate sample data of the same format, write one header. Pure (Buffers in, Buffers out).
 */

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

export interface Pcm {
  format: PcmFormat;
  /** Raw little-endian sample data (the `data` chunk). */
  data: Buffer;
}

export class WavError extends Error {}

const PCM_FORMAT_TAG = 1;
const EXTENSIBLE_FORMAT_TAG = 0xfffe;

export function parseWav(file: Buffer, name = 'wav'): Pcm {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavError(`${name}: not a RIFF/WAVE file`);
  }
  let format: PcmFormat | undefined;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const declared = file.readUInt32LE(offset + 4);
    const start = offset + 8;
    // Streaming writers (espeak-ng to a pipe, sox) leave 0 or 0xFFFFFFFF as the data size: take the rest.
    const size = declared === 0 || declared === 0xffffffff || start + declared > file.length ? file.length - start : declared;
    if (id === 'fmt ') {
      if (size < 16) throw new WavError(`${name}: fmt chunk too short`);
      const tag = file.readUInt16LE(start);
      if (tag !== PCM_FORMAT_TAG && tag !== EXTENSIBLE_FORMAT_TAG) throw new WavError(`${name}: not PCM (format tag ${tag})`);
      format = { channels: file.readUInt16LE(start + 2), sampleRate: file.readUInt32LE(start + 4), bitsPerSample: file.readUInt16LE(start + 14) };
    } else if (id === 'data') {
      if (!format) throw new WavError(`${name}: data chunk before fmt chunk`);
      const frame = frameBytes(format);
      const usable = size - (size % frame);
      return { format, data: Buffer.from(file.subarray(start, start + usable)) };
    }
    offset = start + size + (size % 2);
  }
  throw new WavError(`${name}: no data chunk`);
}

export function frameBytes(format: PcmFormat): number {
  return format.channels * (format.bitsPerSample / 8);
}

export function durationMs(pcm: Pcm): number {
  return (pcm.data.length / frameBytes(pcm.format) / pcm.format.sampleRate) * 1000;
}

export function sameFormat(a: PcmFormat, b: PcmFormat): boolean {
  return a.sampleRate === b.sampleRate && a.channels === b.channels && a.bitsPerSample === b.bitsPerSample;
}

export function describeFormat(format: PcmFormat): string {
  return `${format.sampleRate} Hz ${format.bitsPerSample}-bit ${format.channels === 1 ? 'mono' : `${format.channels} channels`}`;
}

/** Joins PCM segments end to end; every segment must have the same format (no resampling here). */
export function concatPcm(parts: ReadonlyArray<{ name: string; pcm: Pcm }>): Pcm {
  const first = parts[0];
  if (!first) throw new WavError('nothing to join');
  for (const part of parts) {
    if (!sameFormat(part.pcm.format, first.pcm.format)) {
      throw new WavError(`${part.name} is ${describeFormat(part.pcm.format)} but ${first.name} is ${describeFormat(first.pcm.format)}; every clip must have one format`);
    }
  }
  return { format: first.pcm.format, data: Buffer.concat(parts.map((part) => part.pcm.data)) };
}

export function encodeWav(pcm: Pcm): Buffer {
  const { sampleRate, channels, bitsPerSample } = pcm.format;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(PCM_FORMAT_TAG, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * frameBytes(pcm.format), 28);
  header.writeUInt16LE(frameBytes(pcm.format), 32);
  header.writeUInt16LE(bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.data.length, 40);
  return Buffer.concat([header, pcm.data]);
}

/** 16-bit mono silence of a given length. */
export function silence(sampleRate: number, ms: number): Pcm {
  const frames = Math.round((sampleRate * ms) / 1000);
  return { format: { sampleRate, channels: 1, bitsPerSample: 16 }, data: Buffer.alloc(frames * 2) };
}

/**
 * A two-tone "ding-dong" (G5 then E5, decaying), 16-bit mono: the espeak engine's chime when no
 * clip set provides one.
 */
export function synthChime(sampleRate: number): Pcm {
  const notes = [
    { hz: 784, ms: 350 },
    { hz: 659, ms: 600 },
  ];
  const chunks = notes.map(({ hz, ms }) => {
    const frames = Math.round((sampleRate * ms) / 1000);
    const data = Buffer.alloc(frames * 2);
    for (let i = 0; i < frames; i++) {
      const t = i / sampleRate;
      const attack = Math.min(1, i / (sampleRate * 0.01));
      const decay = Math.exp((-3 * i) / frames);
      data.writeInt16LE(Math.round(0.5 * 32767 * attack * decay * Math.sin(2 * Math.PI * hz * t)), i * 2);
    }
    return data;
  });
  return { format: { sampleRate, channels: 1, bitsPerSample: 16 }, data: Buffer.concat(chunks) };
}
