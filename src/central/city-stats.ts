import type { Pool } from 'pg';
import type { DayStats } from '../queue/stats.js';
import type { Summary } from '../queue/stats-summary.js';

export interface CityRow {
  hallId: string;
  name: string;
  day: string;
  issued: number;
  served: number;
  waitP50Minutes: number | null;
  waitP90Minutes: number | null;
  handlingMeanMinutes: number | null;
  evaluationRate: number | null;
  linkState: string | null;
  lastSeen: string | null;
}

/** The city table: one row per hall for the day, from `hall_day_stats` and `halls`. */
export async function cityTable(pool: Pool, day?: string): Promise<CityRow[]> {
  const { rows } = await pool.query<{ hall_id: string; day: string; stats: DayStats; name: { zh?: string } | null; link_state: string | null; last_seen: Date | null }>(
    `SELECT s.hall_id, to_char(s.day, 'YYYY-MM-DD') AS day, s.stats, h.name, h.link_state, h.last_seen
       FROM hall_day_stats s LEFT JOIN halls h USING (hall_id)
      WHERE s.day = coalesce($1::date, (SELECT max(day) FROM hall_day_stats))
      ORDER BY s.hall_id`,
    [day ?? null],
  );
  return rows.map((row) => {
    const total = row.stats.total;
    const served = (summary: Summary) => (summary.count > 0 ? summary : undefined);
    return {
      hallId: row.hall_id,
      name: row.name?.zh ?? row.hall_id,
      day: row.day,
      issued: total.issued,
      served: total.served,
      waitP50Minutes: minutes(served(total.waiting)?.p50),
      waitP90Minutes: minutes(served(total.waiting)?.p90),
      handlingMeanMinutes: minutes(served(total.handling)?.mean),
      evaluationRate: total.served > 0 ? Math.round(total.ratings.rate * 1000) / 1000 : null,
      linkState: row.link_state,
      lastSeen: row.last_seen ? row.last_seen.toISOString() : null,
    };
  });
}

function minutes(seconds: number | undefined): number | null {
  return seconds === undefined ? null : Math.round((seconds / 60) * 10) / 10;
}
