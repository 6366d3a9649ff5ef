/**
 * Clock times as written in the config ("08:30") and as the queue model wants them (minutes
 * since local midnight). "24:00" is accepted only where a time ends something (closing time,
 * the end of a schedule range), so a hall open all day can say 00:00-24:00.
 */

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const END_OF_DAY = '24:00';

export const MINUTES_PER_DAY = 24 * 60;

/** Minutes since midnight, or undefined when `text` is not a valid HH:MM. */
export function parseClockTime(text: string, options: { allowEndOfDay?: boolean } = {}): number | undefined {
  if (options.allowEndOfDay && text === END_OF_DAY) return MINUTES_PER_DAY;
  const match = TIME.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 60 + Number(match[2]);
}

export function formatClockTime(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  return `${String(hours).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export interface MinuteRange {
  from: number;
  to: number;
}

/** "08:30-12:00" → { from: 510, to: 720 }; undefined when malformed or not from < to. */
export function parseTimeRange(text: string): MinuteRange | undefined {
  const parts = text.split('-').map((part) => part.trim());
  if (parts.length !== 2) return undefined;
  const from = parseClockTime(parts[0] ?? '');
  const to = parseClockTime(parts[1] ?? '', { allowEndOfDay: true });
  if (from === undefined || to === undefined || from >= to) return undefined;
  return { from, to };
}

export const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

/** 0 = Sunday, as the queue's HallClock counts. */
export function weekdayNumber(name: WeekdayName): number {
  return WEEKDAY_NAMES.indexOf(name);
}

/**
 * Answers already given. Building an Intl.DateTimeFormat is the dearest step of validating a
 * config (a fifth of it), which `npm run fuzz` does a million times; bounded, so a stream of
 * distinct names cannot grow it.
 */
const knownZones = new Map<string, boolean>();
const KNOWN_ZONES_LIMIT = 64;

/** Whether Intl knows the zone (it throws RangeError for unknown ones). */
export function isValidTimeZone(zone: string): boolean {
  if (zone.length === 0) return false;
  const known = knownZones.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (knownZones.size >= KNOWN_ZONES_LIMIT) knownZones.clear();
  knownZones.set(zone, valid);
  return valid;
}
