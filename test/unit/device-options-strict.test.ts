import { describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { deviceKinds } from '../../devices/registry.js';
import { validateDeviceOptions } from '../../src/config/device-options.js';
import { deviceKindSchemas } from '../../src/cli/device-schemas.js';

/**
 * A misspelt option must be refused by check-config, not silently ignored (a `statusPolMs` that
 * passes leaves the printer polled at the default). Two walks prove it for every device kind the
 * registry knows, so a new kind is covered without touching this file:
 *  - the schema walk finds every object schema reachable from the kind's options (through
 *    optionals, defaults, unions, arrays, records) and requires it to be strict;
 *  - the example walk takes the kind's `exampleOptions`, puts an unknown key into every object
 *    in it in turn, and requires the parse to fail naming that key.
 */

interface ZodDefLike {
  type: string;
  shape?: Record<string, ZodType>;
  catchall?: ZodType;
  innerType?: ZodType;
  in?: ZodType;
  out?: ZodType;
  options?: ZodType[];
  element?: ZodType;
  valueType?: ZodType;
  left?: ZodType;
  right?: ZodType;
  items?: ZodType[];
  rest?: ZodType;
  getter?: () => ZodType;
}

function defOf(schema: ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

/** Every object schema reachable from `schema`, with the path a reader would write in YAML. */
function objectSchemas(schema: ZodType, path: string, out: Array<{ path: string; strict: boolean }>, seen = new Set<ZodType>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  const next = (child: ZodType | undefined, childPath: string): void => {
    if (child) objectSchemas(child, childPath, out, seen);
  };
  switch (def.type) {
    case 'object':
      out.push({ path, strict: def.catchall !== undefined && defOf(def.catchall).type === 'never' });
      for (const [key, child] of Object.entries(def.shape ?? {})) next(child, `${path}.${key}`);
      break;
    case 'union':
      (def.options ?? []).forEach((option, i) => next(option, `${path}|${i}`));
      break;
    case 'array':
      next(def.element, `${path}[]`);
      break;
    case 'record':
      next(def.valueType, `${path}{}`);
      break;
    case 'intersection':
      next(def.left, path);
      next(def.right, path);
      break;
    case 'tuple':
      (def.items ?? []).forEach((item, i) => next(item, `${path}[${i}]`));
      next(def.rest, `${path}[]`);
      break;
    case 'pipe':
      next(def.in, path);
      next(def.out, path);
      break;
    case 'lazy':
      next(def.getter?.(), path);
      break;
    default:
      next(def.innerType, path); // optional, nullable, default, prefault, readonly, catch ...
  }
}

/** Paths (as key lists) of every plain object inside a JSON-like value, the root included. */
function objectPaths(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectPaths(item, [...path, i]));
  if (typeof value !== 'object' || value === null) return [];
  return [path, ...Object.entries(value).flatMap(([key, child]) => objectPaths(child, [...path, key]))];
}

function withUnknownKey(example: unknown, at: Array<string | number>): unknown {
  const copy = structuredClone(example) as Record<string | number, unknown>;
  let node = copy;
  for (const key of at) node = node[key] as Record<string | number, unknown>;
  node.zzMisspelt = 1;
  return copy;
}

describe('device options are strict', () => {
  const kinds = [...deviceKinds().values()];

  it('the registry has kinds to walk', () => {
    expect(kinds.map((k) => k.kind).sort()).toEqual(['counter-pad', 'dispenser', 'health-gate', 'led-bx5k', 'voice-caller']);
  });

  for (const kind of kinds) {
    describe(kind.kind, () => {
      it('every object schema in its options refuses unknown keys', () => {
        const found: Array<{ path: string; strict: boolean }> = [];
        objectSchemas(kind.options as ZodType, 'options', found);
        expect(found.length).toBeGreaterThan(0);
        expect(found.filter((o) => !o.strict).map((o) => o.path)).toEqual([]);
      });

      it('its example parses, and an unknown key in any object of it is refused by name', () => {
        expect(kind.options.safeParse(kind.exampleOptions).success).toBe(true);
        const paths = objectPaths(kind.exampleOptions);
        expect(paths.length).toBeGreaterThan(0);
        for (const at of paths) {
          const result = kind.options.safeParse(withUnknownKey(kind.exampleOptions, at));
          expect(result.success, `unknown key at options.${at.join('.')}`).toBe(false);
          expect(JSON.stringify(result.error?.issues)).toContain('zzMisspelt');
        }
      });
    });
  }

  it('check-config names the misspellings an installer made (statusPolMs, footr, pollMS)', () => {
    const problems = validateDeviceOptions(
      {
        devices: [
          { id: 'kiosk', kind: 'dispenser', options: { printer: { interface: 'tcp://10.0.0.5:9100', statusPolMs: 500 }, footr: { zh: '谢谢', en: 'Thanks' } } },
          { id: 'gate', kind: 'health-gate', options: { modbus: { tcp: '10.0.0.9:502' }, pollMS: 100, policy: { requireHealthCode: false } } },
        ],
      },
      deviceKindSchemas(),
    );
    const text = problems.join('\n');
    for (const key of ['statusPolMs', 'footr', 'pollMS']) expect(text).toContain(key);
  });
});
