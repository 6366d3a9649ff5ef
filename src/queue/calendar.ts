import type { HallClock } from './model.js';

export interface LocalTime {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  /** Minutes since local midnight. */
  minutes: number;
  /** 0 = Sunday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * The hall's local calendar. Time is always passed in (the queue core never reads a clock);
 * Intl does the time-zone arithmetic so daylight-saving zones work too.
 */
export class HallCalendar {
  private readonly format: Intl.DateTimeFormat;
  private cachedMinute = Number.NaN;
  private cached: LocalTime = { date: '', minutes: 0, weekday: 0 };
  private cachedBusiness: { day: string; weekday: number } | undefined;

  constructor(readonly clock: HallClock) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: clock.timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    });
  }

  local(at: number): LocalTime {
    const minute = Math.floor(at / 60_000);
    if (minute === this.cachedMinute) return this.cached;
    const parts: Record<string, string> = {};
    for (const part of this.format.formatToParts(at)) parts[part.type] = part.value;
    this.cachedMinute = minute;
    this.cached = {
      date: `${parts.year}-${parts.month}-${parts.day}`,
      minutes: Number(parts.hour) * 60 + Number(parts.minute),
      weekday: WEEKDAYS[parts.weekday ?? 'Sun'] ?? 0,
    };
    this.cachedBusiness = undefined;
    return this.cached;
  }

  /** The business day `at` belongs to: numbering restarts at `dayStartsAt`, not at midnight. */
  businessDay(at: number): string {
    return this.business(at).day;
  }

  /**
   * The business day and its weekday, kept with the cached minute: every command asks (several
   * times), and before `dayStartsAt` the answer took a Date parse and an ISO format each time.
   */
  private business(at: number): { day: string; weekday: number } {
    const local = this.local(at);
    if (this.cachedBusiness) return this.cachedBusiness;
    const day = local.minutes >= this.clock.dayStartsAt ? local.date : previousDate(local.date);
    this.cachedBusiness = { day, weekday: new Date(`${day}T00:00:00Z`).getUTCDay() };
    return this.cachedBusiness;
  }

  /** Whether the hall takes new tickets at `at`: an open day, before closing time. */
  acceptsTickets(at: number): boolean {
    return !this.isClosed(at);
  }

  /**
   * Past closing time of the business day, or a day the hall does not open. Times are measured
   * from the start of the business day, so a day starting at 04:00 with hours 08:30-17:30 is
   * closed from 17:30 until 04:00 the next morning. Hours of 00:00-24:00 mean always open.
   */
  isClosed(at: number): boolean {
    const { open, close, dayStartsAt, openDays } = this.clock;
    const { weekday } = this.business(at);
    if (!openDays.includes(weekday)) return true;
    if (close - open >= 24 * 60) return false;
    const sinceDayStart = (this.local(at).minutes - dayStartsAt + 1440) % 1440;
    const closeSinceDayStart = ((close - dayStartsAt - 1 + 1440) % 1440) + 1;
    return sinceDayStart >= closeSinceDayStart;
  }

  minutesOfDay(at: number): number {
    return this.local(at).minutes;
  }
}

export function previousDate(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

export function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
