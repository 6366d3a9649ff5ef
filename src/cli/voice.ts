import { parseArgs } from 'node:util';

/** `hall-edge voice build-clips --out DIR`: the default clip set, made with espeak-ng. */
export async function voiceCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'build-clips') {
    process.stderr.write('usage: hall-edge voice build-clips --out DIR [--languages zh,en]\n');
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, languages: { type: 'string', default: 'zh,en' } }, strict: true });
  if (!values.out) {
    process.stderr.write('hall-edge voice build-clips: --out DIR is required\n');
    return 2;
  }
  const { buildDefaultClips } = await import('../../devices/voice-caller/build-clips.js');
  const result = await buildDefaultClips(values.out, { languages: values.languages.split(',') as Array<'zh' | 'en'> });
  process.stdout.write(`${result.clips.length} clips written to ${values.out} (manifest.json lists them)\n`);
  return 0;
}
