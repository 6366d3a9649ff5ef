import iconv from 'iconv-lite';

/**
 * Display text is GB2312/GBK on the wire. Inline codes start with a backslash: `\FO000` selects
 * font 0 (O = 16-dot song, 000 = size code), `\C1` sets colour 1 (red), `\n` is a line break.
 * We keep them in the string we send and strip them when a person (or a test) reads it back.
 */

/**
 * GBK bytes of each character already encoded: a hall's displays use a few hundred characters,
 * and an iconv encoder per frame was most of what building a frame allocated. The cap keeps
 * arbitrary broadcast text from growing it.
 */
const encodedChars = new Map<string, Buffer>();
const MAX_CACHED_CHARS = 4096;

export function encodeDisplayText(text: string): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  for (const char of text) {
    let bytes = encodedChars.get(char);
    if (!bytes) {
      bytes = iconv.encode(char, 'gbk');
      if (encodedChars.size < MAX_CACHED_CHARS) encodedChars.set(char, bytes);
    }
    parts.push(bytes);
    length += bytes.length;
  }
  return Buffer.concat(parts, length);
}

/**
 * The characters of `text` that GBK cannot encode (emoji, some rare 汉字 outside GBK, other
 * scripts): iconv-lite writes `?` in their place, so the display shows `?`. The driver logs the
 * text and these characters so an operator knows why; firmware-protocols/led-bx5k.md says so.
 */
export function unshowableChars(text: string): string[] {
  const missing: string[] = [];
  for (const char of text) {
    if (char === '?') continue;
    const bytes = encodedChars.get(char) ?? iconv.encode(char, 'gbk');
    if (bytes.length === 1 && bytes[0] === 0x3f && !missing.includes(char)) missing.push(char);
  }
  return missing;
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
