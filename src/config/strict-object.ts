import { z } from 'zod';
import { KNOWN_KEYS_PREFIX } from './format-issues.js';

/** A strict object whose unknown-key issue carries the known keys, for "did you mean". */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T, invalidTypeMessage?: string) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return KNOWN_KEYS_PREFIX + Object.keys(shape).join(', ');
      if (issue.code === 'invalid_type' && issue.input !== undefined && invalidTypeMessage) return invalidTypeMessage;
      return undefined;
    },
  });
}
