import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clipManifestSchema, MANIFEST_FILE, type ClipManifest } from './clip-manifest.js';
import { vocabularyOf, type Vocabulary } from './clip-vocabulary.js';
import { concatPcm, describeFormat, parseWav, sameFormat, type Pcm, type PcmFormat } from './wav.js';

export class ClipSetError extends Error {}

/** A clip set loaded into memory (a default set is about 2 MB): joins clip sequences into one PCM. */
export class ClipLibrary {
  private constructor(
    readonly dir: string,
    readonly manifest: ClipManifest,
    private readonly clips: ReadonlyMap<string, Pcm>,
  ) {}

  /** Loads and checks every clip; throws ClipSetError listing every problem, so a hall fixes them in one go. */
  static async load(dir: string): Promise<ClipLibrary> {
    let raw: string;
    try {
      raw = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    } catch (err) {
      throw new ClipSetError(`clip set ${dir}: cannot read ${MANIFEST_FILE} (${(err as Error).message}); build one with "hall-edge voice build-clips --out ${dir}"`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new ClipSetError(`clip set ${dir}: ${MANIFEST_FILE} is not JSON: ${(err as Error).message}`);
    }
    const parsed = clipManifestSchema.safeParse(json);
    if (!parsed.success) {
      throw new ClipSetError(`clip set ${dir}: ${MANIFEST_FILE} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const manifest = parsed.data;
    const format: PcmFormat = manifest.format;
    const clips = new Map<string, Pcm>();
    const problems: string[] = [];
    await Promise.all(
      manifest.clips.map(async (clip) => {
        try {
          const pcm = parseWav(await readFile(join(dir, clip.file)), clip.file);
          if (!sameFormat(pcm.format, format)) problems.push(`${clip.file} is ${describeFormat(pcm.format)}, the set is ${describeFormat(format)}`);
          else clips.set(clip.id, pcm);
        } catch (err) {
          problems.push(`${clip.file}: ${(err as Error).message}`);
        }
      }),
    );
    if (problems.length > 0) throw new ClipSetError(`clip set ${dir}: ${problems.sort().join('; ')}`);
    return new ClipLibrary(dir, manifest, clips);
  }

  get format(): PcmFormat {
    return this.manifest.format;
  }

  vocabulary(): Vocabulary {
    return vocabularyOf(this.manifest.clips);
  }

  has(id: string): boolean {
    return this.clips.has(id);
  }

  /** Clip ids of a sequence this set lacks. */
  missing(sequence: readonly string[]): string[] {
    return [...new Set(sequence.filter((id) => !this.clips.has(id)))];
  }

  clip(id: string): Pcm {
    const pcm = this.clips.get(id);
    if (!pcm) throw new ClipSetError(`clip set ${this.dir} has no clip "${id}"; add it to ${MANIFEST_FILE}`);
    return pcm;
  }

  join(sequence: readonly string[]): Pcm {
    return concatPcm(sequence.map((id) => ({ name: id, pcm: this.clip(id) })));
  }
}
