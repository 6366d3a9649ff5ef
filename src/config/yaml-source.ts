import { parseDocument } from 'yaml';

/** At most this many syntax errors are listed: after the first few they are mostly echoes. */
const MAX_SYNTAX_PROBLEMS = 3;

export type YamlResult = { ok: true; value: unknown } | { ok: false; problems: string[] };

/**
 * YAML text → plain data, or syntax problems as `line L:C: what`. YAML 1.2 (the yaml package's
 * default) keeps "08:30" a string and `on`/`yes` strings; duplicate keys are errors.
 */
export function parseYaml(text: string): YamlResult {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.slice(0, MAX_SYNTAX_PROBLEMS).map((error) => {
      const position = error.linePos?.[0];
      // The pretty message repeats the position and quotes the source; keep the first clause.
      const what = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return position ? `line ${position.line}:${position.col}: ${what}` : what;
    }) };
  }
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    // Unresolved aliases and alias bombs surface only when converting.
    return { ok: false, problems: [`YAML: ${(err as Error).message}`] };
  }
}
