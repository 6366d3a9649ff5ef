import { z } from 'zod';

/**
 * `manifest.json` of a clip set: which file says what. A hall replaces a clip by recording the
 * same text into the same file name, in the manifest's format; new words for custom templates
 * are new entries.
 */
export const MANIFEST_FILE = 'manifest.json';

export const clipManifestSchema = z.object({
  version: z.literal(1),
  format: z.object({
    sampleRate: z.number().int().min(8000).max(96000),
    channels: z.literal(1),
    bitsPerSample: z.literal(16),
  }),
  generator: z.string().optional(),
  clips: z
    .array(
      z.object({
        id: z.string().regex(/^[A-Za-z0-9_.\u4e00-\u9fff-]+$/, 'clip ids are letters, digits, "-", "_" and "."'),
        lang: z.enum(['zh', 'en', 'none']),
        text: z.string(),
        file: z.string().regex(/^[^/\\]+\.wav$/, 'a clip file is a .wav name inside the clip directory'),
        durationMs: z.number().nonnegative().optional(),
      }),
    )
    .min(1),
});

export type ClipManifest = z.infer<typeof clipManifestSchema>;
