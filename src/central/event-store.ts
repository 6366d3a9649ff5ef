import type { Pool } from 'pg';
import { MonthlyPartitions } from './partitions.js';

export interface StoredEvent {
  seq: number;
  day: string;
  at: number;
  type: string;
  [field: string]: unknown;
}

export interface CursorState {
  contiguous: number;
  maxSeq: number;
  /** The first hole after `contiguous`, when there is one: (since, until]. */
  gap?: { since: number; until: number };
}

/**
 * The halls' events in PostgreSQL: insert-if-absent by (hall, seq), in one transaction per
 * message, then the hall's cursor moved over what is now contiguous.
 */
export class EventStore {
  private readonly partitions = new MonthlyPartitions();

  constructor(private readonly pool: Pool) {}

  /** Stores what is new of the events; returns how many were new and the days they touch. */
  async store(hallId: string, events: readonly StoredEvent[]): Promise<{ inserted: number; days: Set<string> }> {
    const days = new Set(events.map((event) => event.day));
    const client = await this.pool.connect();
    try {
      await this.partitions.ensure(client, days);
      await client.query('BEGIN');
      const inserted = await client.query(
        `INSERT INTO events (hall_id, seq, day, at, type, body)
         SELECT $1, e.seq, e.day, to_timestamp(e.at / 1000.0), e.type, e.body
           FROM unnest($2::bigint[], $3::date[], $4::float8[], $5::text[], $6::jsonb[]) AS e(seq, day, at, type, body)
         ON CONFLICT DO NOTHING`,
        [hallId, events.map((e) => e.seq), events.map((e) => e.day), events.map((e) => e.at), events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
      );
      await client.query(
        `INSERT INTO hall_cursors (hall_id, max_seq) VALUES ($1, $2)
         ON CONFLICT (hall_id) DO UPDATE SET max_seq = GREATEST(hall_cursors.max_seq, excluded.max_seq), updated_at = now()`,
        [hallId, Math.max(...events.map((e) => e.seq))],
      );
      await client.query('COMMIT');
      return { inserted: inserted.rowCount ?? 0, days };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Moves the hall's cursor over the events now stored without a hole, and reports the first
   * hole after it. Monotonic (GREATEST), so collectors racing on one hall never move it back.
   */
  async advance(hallId: string): Promise<CursorState> {
    const { rows } = await this.pool.query<{ contiguous: string; max_seq: string; head: string }>('SELECT contiguous, max_seq, head FROM hall_cursors WHERE hall_id = $1', [hallId]);
    if (rows.length === 0) return { contiguous: 0, maxSeq: 0 };
    let contiguous = Number(rows[0]!.contiguous);
    // What the hall says it has counts as seen: a tail that never arrived is a gap too.
    const maxSeq = Math.max(Number(rows[0]!.max_seq), Number(rows[0]!.head));
    if (contiguous < maxSeq) {
      // Seqs are unique per hall: after the cursor, the k-th stored seq is cursor + k until the first hole.
      const run = await this.pool.query<{ last: string | null }>(
        `SELECT max(seq) AS last FROM (
           SELECT seq, row_number() OVER (ORDER BY seq) AS k FROM events WHERE hall_id = $1 AND seq > $2
         ) t WHERE seq = $2 + k`,
        [hallId, contiguous],
      );
      const last = run.rows[0]?.last;
      if (last !== null && last !== undefined && Number(last) > contiguous) {
        contiguous = Number(last);
        await this.pool.query('UPDATE hall_cursors SET contiguous = GREATEST(contiguous, $2), updated_at = now() WHERE hall_id = $1', [hallId, contiguous]);
      }
    }
    if (contiguous >= maxSeq) return { contiguous, maxSeq };
    const next = await this.pool.query<{ seq: string }>('SELECT min(seq) AS seq FROM events WHERE hall_id = $1 AND seq > $2', [hallId, contiguous]);
    const firstAfter = Number(next.rows[0]?.seq ?? maxSeq + 1);
    return { contiguous, maxSeq, gap: { since: contiguous, until: firstAfter - 1 } };
  }

  /**
   * Checks that every event up to each hall's cursor is really there (rows lost or deleted by
   * hand), and moves the cursor back to the first hole it finds, so the gap logic asks for it.
   * Returns the halls whose cursor was moved back.
   */
  async verify(): Promise<string[]> {
    const { rows } = await this.pool.query<{ hall_id: string; contiguous: string; stored: string }>(
      `SELECT c.hall_id, c.contiguous, (SELECT count(*) FROM events e WHERE e.hall_id = c.hall_id AND e.seq <= c.contiguous) AS stored
         FROM hall_cursors c`,
    );
    const repaired: string[] = [];
    for (const row of rows) {
      if (Number(row.stored) === Number(row.contiguous)) continue;
      const run = await this.pool.query<{ last: string | null }>(
        `SELECT coalesce(max(seq), 0) AS last FROM (
           SELECT seq, row_number() OVER (ORDER BY seq) AS k FROM events WHERE hall_id = $1
         ) t WHERE seq = k`,
        [row.hall_id],
      );
      await this.pool.query('UPDATE hall_cursors SET contiguous = $2, updated_at = now() WHERE hall_id = $1', [row.hall_id, Number(run.rows[0]?.last ?? 0)]);
      repaired.push(row.hall_id);
    }
    return repaired;
  }

  /** Halls whose stored events have a hole. */
  async hallsWithGaps(): Promise<string[]> {
    const { rows } = await this.pool.query<{ hall_id: string }>('SELECT hall_id FROM hall_cursors WHERE contiguous < GREATEST(max_seq, head)');
    return rows.map((row) => row.hall_id);
  }

  /** The hall's journal head as it announced it (retained `uplink/head`). */
  async setHead(hallId: string, head: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO hall_cursors (hall_id, head) VALUES ($1, $2)
       ON CONFLICT (hall_id) DO UPDATE SET head = GREATEST(hall_cursors.head, excluded.head), updated_at = now()`,
      [hallId, head],
    );
  }
}
