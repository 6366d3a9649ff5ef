import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function contentTypeFor(path: string): string | undefined {
  return CONTENT_TYPES[extname(path).toLowerCase()];
}

/**
 * The page's folder. The server runs from `src/dashboard` (tests) and from `dist/src/dashboard`
 * (the built daemon), so walk up to the first folder holding `dashboard/index.html`.
 */
export function findDashboardRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`dashboard: no dashboard/index.html above ${start}`);
    dir = parent;
  }
}

/** The browser build of mqtt.js, served to the page so it needs nothing from the internet. */
export function findMqttBrowserBundle(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mqtt/package.json')), 'dist', 'mqtt.min.js');
}

/**
 * Maps a URL path to a file strictly inside `root`, or undefined. Decoding happens before the
 * check, so `%2e%2e%2f` is caught like `../`; NUL bytes and backslashes are refused outright.
 */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const base = resolve(root);
  const full = resolve(base, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  if (full !== base && !full.startsWith(base + sep)) return undefined;
  return full;
}

/** Reads a regular file with a known content type; undefined when absent or not servable. */
export async function readStatic(path: string): Promise<{ body: Buffer; type: string } | undefined> {
  const type = contentTypeFor(path);
  if (!type) return undefined;
  try {
    const info = await stat(path);
    if (!info.isFile()) return undefined;
    return { body: await readFile(path), type };
  } catch {
    return undefined;
  }
}
