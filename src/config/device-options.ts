import type { ZodType } from 'zod';
import type { HallConfig } from './schema.js';
import { formatIssues } from './format-issues.js';

/**
 * Checks each device entry against its kind's options schema. The kinds come from the device
 * registry (devices/registry.ts), which the config layer must not import, so they are passed in.
 */
export function validateDeviceOptions(config: Pick<HallConfig, 'devices'>, kinds: ReadonlyMap<string, ZodType>): string[] {
  const problems: string[] = [];
  const known = [...kinds.keys()].sort();
  config.devices.forEach((device, index) => {
    const schema = kinds.get(device.kind);
    if (!schema) {
      problems.push(`devices[${index}].kind: unknown device kind "${device.kind}" (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
      return;
    }
    const result = schema.safeParse(device.options ?? {}, { reportInput: true });
    if (!result.success) problems.push(...formatIssues(result.error.issues, ['devices', index, 'options']));
  });
  return problems;
}
