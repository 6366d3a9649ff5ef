import { describe, expect, it } from 'vitest';
import { HallCalendar, previousDate } from '../../src/queue/calendar.js';

const shanghai = (h: number, m = 0, day = 23) => Date.UTC(2026, 10, day, h - 8, m); // local time in UTC+8

describe('hall calendar', () => {
  const calendar = new HallCalendar({ timeZone: 'Asia/Shanghai', dayStartsAt: 4 * 60, openDays: [1, 2, 3, 4, 5], open: 510, close: 1050 });

  it('starts the business day at dayStartsAt, not at midnight', () => {
    expect(calendar.businessDay(shanghai(9))).toBe('2026-11-23');
    expect(calendar.businessDay(shanghai(3, 59, 24))).toBe('2026-11-23');
    expect(calendar.businessDay(shanghai(4, 0, 24))).toBe('2026-11-24');
  });

  it('is closed after closing time, on closed weekdays, and open before opening (people queue early)', () => {
    expect(calendar.isClosed(shanghai(7))).toBe(false);
    expect(calendar.isClosed(shanghai(17, 29))).toBe(false);
    expect(calendar.isClosed(shanghai(17, 30))).toBe(true);
    expect(calendar.isClosed(shanghai(2, 0, 24))).toBe(true); // still Monday's business day, after close
    expect(calendar.isClosed(shanghai(10, 0, 22))).toBe(true); // Sunday
  });

  it('treats 00:00-24:00 as always open on open days, whatever the day start', () => {
    const allDay = new HallCalendar({ timeZone: 'UTC', dayStartsAt: 13 * 60, openDays: [0, 1, 2, 3, 4, 5, 6], open: 0, close: 1440 });
    for (let h = 0; h < 24; h++) expect(allDay.isClosed(Date.UTC(2026, 10, 23, h, 30))).toBe(false);
  });

  it('follows daylight saving time in zones that have it', () => {
    const berlin = new HallCalendar({ timeZone: 'Europe/Berlin', dayStartsAt: 0, openDays: [0, 1, 2, 3, 4, 5, 6], open: 480, close: 1020 });
    expect(berlin.local(Date.UTC(2026, 6, 1, 6, 0)).minutes).toBe(8 * 60); // CEST, UTC+2
    expect(berlin.local(Date.UTC(2026, 11, 1, 7, 0)).minutes).toBe(8 * 60); // CET, UTC+1
  });

  it('steps back over month and year ends', () => {
    expect(previousDate('2026-03-01')).toBe('2026-02-28');
    expect(previousDate('2027-01-01')).toBe('2026-12-31');
  });
});
