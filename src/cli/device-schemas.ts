import type { ZodType } from 'zod';
import { deviceKinds } from '../../devices/registry.js';

/** Options schemas of every device kind, for config validation. */
export function deviceKindSchemas(): Map<string, ZodType> {
  return new Map([...deviceKinds()].map(([name, kind]) => [name, kind.options as ZodType]));
}
