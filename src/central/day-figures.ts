import type { Pool } from 'pg';
import type { HallEvent } from '../queue/events.js';
import { StatsAccumulator } from '../queue/stats.js';
import { modelFromInfo, type HallInfo } from './hall-model.js';

/** Day accumulators kept in memory; beyond this the least recently used is dropped (and rebuilt from the table if needed). */
const MAX_OPEN_DAYS = 256;

interface OpenDay {
  accumulator: StatsAccumulator;
  /** Every event of the day with seq ≤ this has been applied. */
  through: number;
  events: number;
  /** The latest event time applied: the snapshot's `generatedAt`, as computeDayStats stamps it. */
  lastAt: number;
  /** The `bridge/info` the accumulator was built with: a changed hall starts over. */
  infoKey: string;
}

/**
 * `hall_day_stats`, kept up to date incrementally: per (hall, day) the hall's own
 * StatsAccumulator (src/queue/stats.ts — the same code and definitions as the hall's `stats`),
 * fed in seq order with the stored events up to the hall's contiguous cursor, and only with the
 * ones it has not seen. Recomputing a busy day from all its rows on every update read O(day) rows
 * per message — a whole city catching up spent its time re-reading its own events.
 *
 * Only the gap-free prefix is counted, so the figures are always those the hall had at some seq;
 * a hole is counted once it is filled. Several collectors each keep their own accumulators; the
 * row with the most events wins (a slower collector never writes older figures over newer).
 */
export class DayFigures {
  private readonly open = new Map<string, OpenDay>();
  /** Per hall: the contiguous cursor up to which the figures were brought. */
  private readonly through = new Map<string, number>();
  private readonly info = new Map<string, { info: HallInfo; key: string }>();
  /** Updates run one at a time: an accumulator must see each event once, in seq order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly pool: Pool) {}

  /** The hall's `bridge/info` changed (or was first seen): its days are rebuilt with it. */
  setInfo(hallId: string, info: HallInfo): void {
    const key = JSON.stringify(info);
    if (this.info.get(hallId)?.key === key) return;
    this.info.set(hallId, { info, key });
  }

  /**
   * Brings the hall's figures up to its contiguous cursor. Returns false when the hall's
   * `bridge/info` has not been seen yet (figures need its services, windows and time zone).
   */
  update(hallId: string): Promise<boolean> {
    const next = this.chain.then(() => this.bringUp(hallId));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async bringUp(hallId: string): Promise<boolean> {
    const known = this.info.get(hallId) ?? (await this.loadInfo(hallId));
    if (!known) return false;
    const { rows } = await this.pool.query<{ contiguous: string }>('SELECT contiguous FROM hall_cursors WHERE hall_id = $1', [hallId]);
    const contiguous = Number(rows[0]?.contiguous ?? 0);
    const from = this.through.get(hallId) ?? 0;
    if (contiguous <= from) return true;
    const days = await this.pool.query<{ day: string }>(
      "SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM events WHERE hall_id = $1 AND seq > $2 AND seq <= $3",
      [hallId, from, contiguous],
    );
    for (const { day } of days.rows) await this.updateDay(hallId, day, contiguous, known);
    this.through.set(hallId, Math.max(from, contiguous));
    return true;
  }

  private async updateDay(hallId: string, day: string, contiguous: number, known: { info: HallInfo; key: string }): Promise<void> {
    const id = `${hallId} ${day}`;
    let open = this.open.get(id);
    if (!open || open.infoKey !== known.key) open = { accumulator: new StatsAccumulator(modelFromInfo(known.info)), through: 0, events: 0, lastAt: 0, infoKey: known.key };
    // Most recently used last, so the first is the one to drop.
    this.open.delete(id);
    this.open.set(id, open);
    if (this.open.size > MAX_OPEN_DAYS) this.open.delete(this.open.keys().next().value!);
    if (contiguous <= open.through) return;
    const { rows } = await this.pool.query<{ body: HallEvent }>('SELECT body FROM events WHERE hall_id = $1 AND day = $2 AND seq > $3 AND seq <= $4 ORDER BY seq', [
      hallId,
      day,
      open.through,
      contiguous,
    ]);
    for (const row of rows) {
      open.accumulator.apply(row.body);
      open.lastAt = Math.max(open.lastAt, row.body.at);
    }
    open.through = contiguous;
    open.events += rows.length;
    if (rows.length === 0) return;
    const stats = open.accumulator.snapshot(open.lastAt);
    await this.pool.query(
      `INSERT INTO hall_day_stats (hall_id, day, events, stats) VALUES ($1, $2, $3, $4)
       ON CONFLICT (hall_id, day) DO UPDATE SET events = excluded.events, stats = excluded.stats, updated_at = now()
       WHERE hall_day_stats.events <= excluded.events`,
      [hallId, day, open.events, JSON.stringify(stats)],
    );
  }

  private async loadInfo(hallId: string): Promise<{ info: HallInfo; key: string } | undefined> {
    const { rows } = await this.pool.query<{ info: HallInfo | null }>('SELECT info FROM halls WHERE hall_id = $1', [hallId]);
    const info = rows[0]?.info;
    if (!info) return undefined;
    this.setInfo(hallId, info);
    return this.info.get(hallId);
  }
}
