import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layering of docs (DESIGN.md, "imports point downwards only") as rules the suite enforces.
 * Every import and export-from of every .ts file under src/ and devices/ is read (static imports,
 * `import type` and dynamic `import('...')` alike) and resolved to a repository path, then judged.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Edge {
  from: string;
  /** Repository path of a local target ('src/queue/ticket.ts'), or the bare specifier ('node:fs', 'zod'). */
  to: string;
  local: boolean;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(join(root, file), 'utf8');
  const edges: Edge[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier) continue;
    if (specifier.startsWith('.')) {
      const target = relative(root, resolve(root, dirname(file), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from: file, to: target, local: true });
    } else {
      edges.push({ from: file, to: specifier, local: false });
    }
  }
  return edges;
}

const edges = [...sourceFiles('src'), ...sourceFiles('devices')].flatMap(importsOf);
const show = (found: Edge[]): string[] => found.map((e) => `${e.from} -> ${e.to}`);

describe('layering', () => {
  it('reads the imports it judges (the walk itself works)', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: 'src/queue/engine.ts', to: 'src/queue/ticket.ts', local: true });
    expect(edges.some((e) => e.from.startsWith('devices/') && e.to === 'src/device-contract/index.ts')).toBe(true);
  });

  it('the queue core is pure: it imports nothing but itself (no node:, no packages, no I/O layers)', () => {
    const bad = edges.filter((e) => e.from.startsWith('src/queue/') && !(e.local && e.to.startsWith('src/queue/')));
    expect(show(bad)).toEqual([]);
  });

  it('devices know the hall only through the device contract', () => {
    const hallInternals = ['src/hall/', 'src/journal/', 'src/config/', 'src/cli/', 'src/dashboard/', 'src/queue/'];
    const bad = edges.filter((e) => e.from.startsWith('devices/') && e.local && hallInternals.some((dir) => e.to.startsWith(dir)));
    expect(show(bad)).toEqual([]);
  });

  it('the broker and bridge are not device business (a simulator may be an MQTT client)', () => {
    const bad = edges.filter((e) => e.from.startsWith('devices/') && e.local && e.to.startsWith('src/bus/') && e.to !== 'src/bus/client.ts');
    expect(show(bad)).toEqual([]);
  });

  it('the hall reaches device kinds only through the registry (each kind keeps its bridge requests in its folder)', () => {
    const bad = edges.filter((e) => e.from.startsWith('src/hall/') && e.local && e.to.startsWith('devices/') && e.to !== 'devices/registry.ts');
    expect(show(bad)).toEqual([]);
  });

  it('the device contract stands below the hall: it imports only the queue types and the platform', () => {
    const bad = edges.filter((e) => e.from.startsWith('src/device-contract/') && e.local && !['src/device-contract/', 'src/queue/', 'src/platform/', 'src/bus/request-envelope.ts'].some((dir) => e.to.startsWith(dir)));
    expect(show(bad)).toEqual([]);
  });

  it('the platform layer knows nothing above it', () => {
    const above = ['src/hall/', 'src/queue/', 'src/journal/', 'src/bus/', 'src/cli/', 'src/device-contract/', 'devices/'];
    const bad = edges.filter((e) => e.from.startsWith('src/platform/') && e.local && above.some((dir) => e.to.startsWith(dir)));
    expect(show(bad)).toEqual([]);
  });
});
