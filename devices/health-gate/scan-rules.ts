import { z } from 'zod';

/**
 * Turning a scanner line into a health-code colour. Which payloads a hall sees depends on the
 * province's code and on the scanner's reader app, so the rules live in config; the line format
 * is in firmware-protocols/health-code-scanner.md.
 */

export const HEALTH_COLOURS = ['green', 'yellow', 'red'] as const;
export type HealthColour = (typeof HEALTH_COLOURS)[number];

const colourSchema = z.enum(HEALTH_COLOURS);

const regexRuleSchema = z.strictObject({
  /** A regular expression tried against the whole line. */
  match: z.string().refine(isValidRegex, { message: 'not a valid regular expression' }),
  /** Capture group that holds the colour token. */
  colourFrom: z.number().int().min(0).default(1),
  /** Colour token → colour; tokens are compared as captured (case-sensitive). */
  map: z.record(z.string(), colourSchema).optional(),
});

const jsonRuleSchema = z.strictObject({
  /** Dot path of the colour field in a JSON payload, e.g. "color" or "data.health.colour". */
  json: z.string().min(1),
  map: z.record(z.string(), colourSchema).optional(),
});

export const scanRuleSchema = z.union([regexRuleSchema, jsonRuleSchema]);
export type ScanRule = z.infer<typeof scanRuleSchema>;

export const DEFAULT_SCAN_RULES: ScanRule[] = [
  { match: '^HC:(G|Y|R):', colourFrom: 1, map: { G: 'green', Y: 'yellow', R: 'red' } },
  { json: 'color' },
  { json: 'colour' },
];

/** Longest line accepted; longer is a refusal, not a parse attempt (scanners do glitch). */
export const MAX_SCAN_LENGTH = 2048;

export type ScanResult =
  | { readable: true; colour: HealthColour }
  | { readable: false; reason: 'empty' | 'too-long' | 'no-rule-matched' | 'unknown-colour' | 'bad-json'; detail?: string };

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function toColour(token: string, map: Record<string, HealthColour> | undefined): HealthColour | undefined {
  // Own keys only: a scanned "valueOf" or "constructor" must not find Object.prototype's (found by npm run fuzz).
  if (map) return Object.hasOwn(map, token) ? map[token] : undefined;
  const lower = token.trim().toLowerCase();
  return (HEALTH_COLOURS as readonly string[]).includes(lower) ? (lower as HealthColour) : undefined;
}

function fieldAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Compiled rules: the regexes are built once, not per scan. */
export interface ScanClassifier {
  classify(line: string): ScanResult;
}

export function createScanClassifier(rules: readonly ScanRule[]): ScanClassifier {
  const compiled = rules.map((rule) => ('match' in rule ? { ...rule, regex: new RegExp(rule.match) } : rule));
  return {
    classify(rawLine: string): ScanResult {
      // Scanners end lines with CR, LF or both, and some prefix a BOM or pad with spaces.
      const line = rawLine.replace(/^\uFEFF/, '').trim();
      if (line.length === 0) return { readable: false, reason: 'empty' };
      if (line.length > MAX_SCAN_LENGTH) return { readable: false, reason: 'too-long', detail: `${line.length} characters` };
      let parsedJson: unknown;
      let jsonError: string | undefined;
      let unknownToken: string | undefined;
      for (const rule of compiled) {
        if ('regex' in rule) {
          const found = rule.regex.exec(line);
          if (!found) continue;
          const token = found[rule.colourFrom];
          if (token === undefined) continue;
          const colour = toColour(token, rule.map);
          if (colour) return { readable: true, colour };
          unknownToken = token;
          continue;
        }
        if (!line.startsWith('{')) continue;
        if (parsedJson === undefined && jsonError === undefined) {
          try {
            parsedJson = JSON.parse(line) as unknown;
          } catch {
            // V8's message quotes the input, and the input is personal data.
            jsonError = 'starts with { but is not valid JSON';
          }
        }
        if (jsonError !== undefined) continue;
        const field = fieldAt(parsedJson, rule.json);
        if (typeof field !== 'string') continue;
        const colour = toColour(field, rule.map);
        if (colour) return { readable: true, colour };
        unknownToken = field;
      }
      // The detail names the rule outcome, never the payload: scans are personal data.
      if (unknownToken !== undefined) return { readable: false, reason: 'unknown-colour', detail: `colour token of ${unknownToken.length} characters not in the rule's map` };
      if (jsonError !== undefined) return { readable: false, reason: 'bad-json', detail: jsonError };
      return { readable: false, reason: 'no-rule-matched' };
    },
  };
}
