import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file whether it runs from fuzz/ (vitest) or dist/fuzz/ (npm run fuzz). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'firmware-protocols')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (firmware-protocols/ next to package.json)');
    dir = parent;
  }
}

export function readRepoText(path: string): string {
  return readFileSync(join(repoRoot(), path), 'utf8');
}

export function readVectors<T>(name: string): T {
  return JSON.parse(readRepoText(`firmware-protocols/vectors/${name}.json`)) as T;
}
