import type { z } from 'zod';

/**
 * Turns zod issues into the config's problem lines: `windows[3].skills[0]: <what is wrong>`.
 * zod's own wording ("Invalid input: expected number, received string") is replaced by shorter
 * text that also shows the offending value, because the reader is an integrator with a YAML
 * file open, not a developer.
 */

/** Set by `strictObject` in schema.ts as the message of an unrecognized_keys issue. */
export const KNOWN_KEYS_PREFIX = 'known keys: ';

type Issue = z.core.$ZodIssue;
type PathPart = PropertyKey;

/** zod's built-in English messages start like this; anything else was written by us. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too small|Too big|Unrecognized)\b/;

export function formatPath(path: readonly PathPart[]): string {
  const text = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  return text.startsWith('.') ? text.slice(1) : text;
}

/** One line per problem; `prefix` places the issues of a nested schema (device options) in the file. */
export function formatIssues(issues: readonly Issue[], prefix: readonly PathPart[] = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...path, key])}: ${unknownKey(key, issue.message)}`);
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the alternative that got furthest rather than "invalid input".
      const best = [...issue.errors].sort((a, b) => deepest(b) - deepest(a))[0] ?? [];
      lines.push(...formatIssues(best, path));
      continue;
    }
    lines.push(`${formatPath(path) || '(top level)'}: ${describeIssue(issue)}`);
  }
  return lines;
}

function deepest(issues: readonly Issue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

function describeIssue(issue: Issue): string {
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${issue.expected}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return tooSmall(issue);
    case 'too_big':
      return tooBig(issue);
    case 'invalid_format':
      return issue.format === 'regex' ? `${describeValue(issue.input)} does not match ${issue.pattern ?? 'the expected format'}` : `expected a ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_key':
      return `invalid key ${describeValue(issue.input)}`;
    default:
      return issue.message;
  }
}

function tooSmall(issue: z.core.$ZodIssueTooSmall): string {
  const minimum = Number(issue.minimum);
  if (issue.origin === 'string') return minimum <= 1 ? 'must not be empty' : `must be at least ${minimum} characters`;
  if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${minimum} ${minimum === 1 ? 'item' : 'items'}`;
  return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${minimum}, got ${describeValue(issue.input)}`;
}

function tooBig(issue: z.core.$ZodIssueTooBig): string {
  const maximum = Number(issue.maximum);
  if (issue.origin === 'string') return `must be at most ${maximum} characters`;
  if (issue.origin === 'array' || issue.origin === 'set') return `has more than ${maximum} ${maximum === 1 ? 'item' : 'items'}`;
  return `must be ${issue.inclusive ? 'at most' : 'less than'} ${maximum}, got ${describeValue(issue.input)}`;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 37)}...` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function unknownKey(key: string, message: string): string {
  if (!message.startsWith(KNOWN_KEYS_PREFIX)) return `unknown key "${key}"`;
  const known = message.slice(KNOWN_KEYS_PREFIX.length).split(', ');
  const suggestion = closest(key, known);
  return suggestion ? `unknown key "${key}" (did you mean "${suggestion}"?)` : `unknown key "${key}" (known: ${known.join(', ')})`;
}

/** A known word within edit distance 2 of `word` (typos like "skils", "openinghours"). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
