import iconv from 'iconv-lite';

/**
 * GB2312 text on a line protocol whose delimiters are ASCII. iconv-lite's "gb2312" is really
 * GBK, whose second bytes may be 0x40-0x7E (so '|' 0x7C could appear inside a character). We
 * therefore accept only printable ASCII and characters whose two bytes are both 0xA1-0xFE
 * (EUC-CN, i.e. true GB2312): no byte of such a character can be mistaken for a delimiter.
 */

/** Bytes that structure a frame and so may never appear inside an argument. */
export const DELIMITER_BYTES: ReadonlySet<number> = new Set([0x7c /* | */, 0x2a /* * */, 0x0d, 0x0a]);

function isSafeAscii(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e && !DELIMITER_BYTES.has(byte);
}

function isGb2312Byte(byte: number): boolean {
  return byte >= 0xa1 && byte <= 0xfe;
}

/**
 * Characters already encoded. A hall shows a few hundred distinct characters, and every pad
 * display and ACK goes through here; the cap keeps arbitrary operator text from growing it.
 */
const encoded = new Map<string, Buffer | null>();
const MAX_CACHED_CHARS = 4096;

/** Encodes one character, or undefined when it is not printable ASCII or GB2312. The buffer is shared: do not modify it. */
function encodeChar(char: string): Buffer | undefined {
  const cached = encoded.get(char);
  if (cached !== undefined) return cached ?? undefined;
  const bytes = encodeCharUncached(char);
  if (encoded.size < MAX_CACHED_CHARS) encoded.set(char, bytes ?? null);
  return bytes;
}

function encodeCharUncached(char: string): Buffer | undefined {
  const bytes = iconv.encode(char, 'gbk');
  if (bytes.length === 1 && isSafeAscii(bytes[0]!) && char.charCodeAt(0) === bytes[0]) return bytes;
  if (bytes.length === 2 && isGb2312Byte(bytes[0]!) && isGb2312Byte(bytes[1]!)) return bytes;
  return undefined;
}

/** Strict encoding: undefined when any character cannot travel in an argument. */
export function encodeArgText(text: string): Buffer | undefined {
  const parts: Buffer[] = [];
  for (const char of text) {
    const bytes = encodeChar(char);
    if (!bytes) return undefined;
    parts.push(bytes);
  }
  return Buffer.concat(parts);
}

/**
 * Lenient encoding for text shown to people: characters that cannot travel become '?', and the
 * result is cut at a character boundary so it fits `maxBytes`.
 */
export function fitArgText(text: string, maxBytes: number): { text: string; bytes: Buffer } {
  const parts: Buffer[] = [];
  let kept = '';
  let length = 0;
  for (const char of text) {
    const safeChar = encodeChar(char) ? char : '?';
    const bytes = encodeChar(safeChar)!;
    if (length + bytes.length > maxBytes) break;
    parts.push(bytes);
    kept += safeChar;
    length += bytes.length;
  }
  return { text: kept, bytes: Buffer.concat(parts) };
}

/** Decodes an argument, or undefined when its bytes are not printable ASCII / whole GB2312 pairs. */
export function decodeArgText(bytes: Buffer): string | undefined {
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i]!;
    if (isSafeAscii(byte)) continue;
    if (isGb2312Byte(byte) && i + 1 < bytes.length && isGb2312Byte(bytes[i + 1]!)) {
      i += 1;
      continue;
    }
    return undefined;
  }
  const text = iconv.decode(bytes, 'gbk');
  // A pair in 0xA1-0xFE that GB2312 leaves unassigned decodes to U+FFFD: refuse it too.
  return text.includes('\uFFFD') ? undefined : text;
}
