/**
 * How numbers are read aloud in a hall call. Pure: used by the phrase builder for both the
 * spoken text and the clip sequence, so each reading is a list of words (one clip per word).
 */

const ZH_DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'] as const;
const ZH_UNITS = ['', '十', '百', '千'] as const;

/** Chinese digit characters for 0..9, as read one by one in a ticket number (A023 → A 零 二 三). */
export function zhDigit(digit: number): string {
  const word = ZH_DIGITS[digit];
  if (word === undefined) throw new RangeError(`not a digit: ${digit}`);
  return word;
}

/**
 * A number read as a number in Mandarin, as words: 7 → [七], 12 → [十, 二], 21 → [二, 十, 一],
 * 101 → [一, 百, 零, 一], 1010 → [一, 千, 零, 一, 十]. Covers 0..9999 (a hall has at most a few
 * hundred windows). 10..19 drop the leading 一 (十二, not 一十二) as people say it; 110 keeps it
 * (一百一十).
 */
export function zhNumberWords(n: number): string[] {
  if (!Number.isInteger(n) || n < 0 || n > 9999) throw new RangeError(`window number out of range 0..9999: ${n}`);
  if (n === 0) return [zhDigit(0)];
  const digits = String(n).split('').map(Number);
  const words: string[] = [];
  let pendingZero = false;
  digits.forEach((digit, index) => {
    const unit = ZH_UNITS[digits.length - 1 - index] ?? '';
    if (digit === 0) {
      // One 零 stands for any run of zeros between non-zero digits; trailing zeros are silent.
      if (words.length > 0) pendingZero = true;
      return;
    }
    if (pendingZero) words.push(zhDigit(0));
    pendingZero = false;
    const isLeadingTen = index === 0 && unit === '十' && digit === 1;
    if (!isLeadingTen) words.push(zhDigit(digit));
    if (unit !== '') words.push(unit);
  });
  return words;
}

const EN_SMALL = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
] as const;
const EN_TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const;

/** English digit names, read one by one in a ticket number (A023 → A zero two three). */
export function enDigit(digit: number): string {
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new RangeError(`not a digit: ${digit}`);
  return EN_SMALL[digit] as string;
}

/** A number read as a number in English, as words: 7 → [seven], 21 → [twenty, one], 101 → [one, hundred, one]. 0..9999. */
export function enNumberWords(n: number): string[] {
  if (!Number.isInteger(n) || n < 0 || n > 9999) throw new RangeError(`window number out of range 0..9999: ${n}`);
  if (n < 20) return [EN_SMALL[n] as string];
  if (n < 100) {
    const words = [EN_TENS[Math.floor(n / 10)] as string];
    if (n % 10 !== 0) words.push(EN_SMALL[n % 10] as string);
    return words;
  }
  const [scale, size] = n < 1000 ? (['hundred', 100] as const) : (['thousand', 1000] as const);
  const words = [...enNumberWords(Math.floor(n / size)), scale];
  if (n % size !== 0) words.push(...enNumberWords(n % size));
  return words;
}

/** Every word the two readings can produce: the number part of the clip vocabulary. */
export const ZH_NUMBER_VOCABULARY: readonly string[] = [...ZH_DIGITS, '十', '百', '千'];
export const EN_NUMBER_VOCABULARY: readonly string[] = [...EN_SMALL, ...EN_TENS.filter((w) => w !== ''), 'hundred', 'thousand'];
