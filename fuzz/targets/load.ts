import type { FuzzTarget } from '../target.js';

/**
 * One target by name, importing only its own module (fuzz/targets/<name>.ts, as every target is
 * filed): a fuzz process runs one target and need not load the other nine, nor parse the config
 * examples the config target reads at import. test/fuzz/harness.test.ts checks every target of
 * index.ts loads this way.
 */
export async function loadTarget(name: string): Promise<FuzzTarget<unknown> | undefined> {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(`./${name}.js`)) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
  return Object.values(module).find(
    (value): value is FuzzTarget<unknown> => typeof value === 'object' && value !== null && (value as { name?: unknown }).name === name && 'run' in value,
  );
}
