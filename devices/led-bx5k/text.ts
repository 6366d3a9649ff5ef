import iconv from 'iconv-lite';

/**
 * Display text is GB2312/GBK on the wire. Inline codes start with a backslash: `\FO000` selects
 * font 0 (O = 16-dot song, 000 = size code), `\C1` sets colour 1 (red), `\n` is a line break.
 * We keep them in the string we send and strip them when a person (or a test) reads it back.
 */

export function encodeDisplayText(text: string): Buffer {
  return iconv.encode(text, 'gbk');
}

export function decodeDisplayText(bytes: Buffer): string {
  return iconv.decode(bytes, 'gbk');
}

/** Font and colour codes we emit and recognise: \FO000 (font), \C1 (colour 1..7). */
const CODE = /\\F[A-Z]\d{3}|\\C\d/g;

export function stripDisplayCodes(text: string): string {
  return text.replace(CODE, '');
}

export function displayCodes(text: string): string[] {
  return text.match(CODE) ?? [];
}
