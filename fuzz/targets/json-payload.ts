import type { z } from 'zod';
import { equalJson, PropertyViolation } from '../target.js';

/**
 * A payload that passed a schema, written as JSON and read again, passes again as the same
 * value: what we accept we can also send, log and journal without losing or inventing a field.
 */
export function checkJsonRoundTrip(schema: z.ZodType, data: unknown, what: string): void {
  const text = JSON.stringify(data);
  const again = schema.safeParse(text === undefined ? undefined : JSON.parse(text));
  if (!again.success || !equalJson(again.data, data)) throw new PropertyViolation(`${what}: accepted payload does not survive JSON re-encoding`);
}
