import { LineCounter, parseDocument } from 'yaml';

/** At most this many syntax errors are listed: after the first few they are mostly echoes. */
const MAX_SYNTAX_PROBLEMS = 3;

/**
 * The yaml package spends tens of microseconds per level of [ ] / { } nesting (a 2 KB line of
 * "[" took over 20 ms in the fuzz run, and it grows with the file), so absurd nesting is refused
 * before parsing. Found by `npm run fuzz` (fuzz/regressions/config-yaml/).
 */
export const MAX_FLOW_DEPTH = 32;

export type YamlResult = { ok: true; value: unknown } | { ok: false; problems: string[] };

/**
 * YAML text → plain data, or syntax problems as `line L:C: what`. YAML 1.2 (the yaml package's
 * default) keeps "08:30" a string and `on`/`yes` strings; duplicate keys are errors.
 */
export function parseYaml(text: string): YamlResult {
  const deep = tooDeepFlow(text);
  if (deep) return { ok: false, problems: [`line ${deep.line}: [ ] and { } nested more than ${MAX_FLOW_DEPTH} deep; a hall config needs a few levels`] };
  // prettyErrors would quote the source around every error and warning; only the first few
  // positions are reported, so they are looked up here (the fuzzer feeds mostly broken YAML).
  const lineCounter = new LineCounter();
  // logLevel 'error': a mapping used as a key ({ a: 1 }: x) made the yaml package print a Node
  // warning to stderr on converting; the key, stringified, is then an unknown key the schema names.
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter, logLevel: 'error' });
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.slice(0, MAX_SYNTAX_PROBLEMS).map((error) => {
      const position = error.pos ? lineCounter.linePos(error.pos[0]) : undefined;
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

/**
 * The first line where flow collections nest deeper than MAX_FLOW_DEPTH, skipping quoted scalars
 * and comments. A quote counts only where a scalar can start (so O'Brien is no quote); in doubt
 * the scan under-counts, and the yaml package still parses and judges the text.
 */
function tooDeepFlow(text: string): { line: number } | undefined {
  let depth = 0;
  let line = 1;
  let previous = '\n';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\n') line += 1;
    else if (c === '[' || c === '{') {
      depth += 1;
      if (depth > MAX_FLOW_DEPTH) return { line };
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '#' && /\s/.test(previous)) {
      const end = text.indexOf('\n', i);
      if (end < 0) return undefined;
      i = end - 1;
    } else if ((c === '"' || c === "'") && /[\s:,[{-]/.test(previous)) {
      const end = closingQuote(text, i);
      if (end < 0) return undefined;
      for (let j = i; j < end; j += 1) if (text[j] === '\n') line += 1;
      i = end;
    }
    previous = text[i]!;
  }
  return undefined;
}

/** Index of the quote that closes the one at `open` ('' escapes in single quotes, \ in double). */
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') i += 1;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i += 1;
      else return i;
    }
  }
  return -1;
}
