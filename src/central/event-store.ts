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
 * The halls' events in PostgreSQL: insert-if-absent by (hall, seq) and the hall's highest seq,
 * in one statement per message (one round trip, atomic), then the hall's cursor moved over what
 * is now contiguous in one more.
 */
export class EventStore {
  private readonly partitions = new MonthlyPartitions();

  constructor(private readonly pool: Pool) {}

  /** Stores what is new of the events; returns how many were new. */
  async store(hallId: string, events: readonly StoredEvent[]): Promise<{ inserted: number }> {
    await this.partitions.ensure(this.pool, new Set(events.map((event) => event.day)));
    // Data-modifying CTEs all run, in the statement's one transaction.
    const { rows } = await this.pool.query<{ inserted: number }>(
      `WITH new AS (
         INSERT INTO events (hall_id, seq, day, at, type, body)
         SELECT $1, (e->>'seq')::bigint, (e->>'day')::date, to_timestamp((e->>'at')::float8 / 1000.0), e->>'type', e
           FROM jsonb_array_elements($2::jsonb) AS e
         ON CONFLICT DO NOTHING
         RETURNING 1
       ), seen AS (
         INSERT INTO hall_cursors (hall_id, max_seq) VALUES ($1, $3)
         ON CONFLICT (hall_id) DO UPDATE SET max_seq = GREATEST(hall_cursors.max_seq, excluded.max_seq), updated_at = now()
       )
       SELECT count(*)::int AS inserted FROM new`,
      // The events as one JSON array: a jsonb[] parameter would be an array literal with every quote of every event escaped.
      [hallId, JSON.stringify(events), Math.max(...events.map((e) => e.seq))],
    );
    return { inserted: rows[0]!.inserted };
  }

  /**
   * Moves the hall's cursor over the events now stored without a hole, and reports the first
   * hole after it, in one statement. Monotonic (the update only moves it forward, re-checked
   * on the row's newest version), so collectors racing on one hall never move it back.
   */
  async advance(hallId: string): Promise<CursorState> {
    // What the hall says it has (head) counts as seen: a tail that never arrived is a gap too.
    // Seqs are unique per hall: after the cursor, the k-th stored seq is cursor + k until the first hole.
    const { rows } = await this.pool.query<{ contiguous: string; top: string; next: string | null }>(
      `WITH c AS (
         SELECT contiguous, GREATEST(max_seq, head) AS top FROM hall_cursors WHERE hall_id = $1
       ), run AS (
         SELECT GREATEST(c.contiguous, coalesce((
           SELECT max(t.seq) FROM (
             SELECT e.seq, row_number() OVER (ORDER BY e.seq) AS k FROM events e WHERE e.hall_id = $1 AND e.seq > c.contiguous
           ) t WHERE t.seq = c.contiguous + t.k
         ), 0)) AS last
         FROM c WHERE c.contiguous < c.top
       ), moved AS (
         UPDATE hall_cursors h SET contiguous = run.last, updated_at = now() FROM run WHERE h.hall_id = $1 AND run.last > h.contiguous
       )
       SELECT coalesce(run.last, c.contiguous) AS contiguous, c.top,
              (SELECT min(e.seq) FROM events e WHERE e.hall_id = $1 AND e.seq > coalesce(run.last, c.contiguous)) AS next
         FROM c LEFT JOIN run ON true`,
      [hallId],
    );
    if (rows.length === 0) return { contiguous: 0, maxSeq: 0 };
    const contiguous = Number(rows[0]!.contiguous);
    const maxSeq = Number(rows[0]!.top);
    if (contiguous >= maxSeq) return { contiguous, maxSeq };
    const firstAfter = Number(rows[0]!.next ?? maxSeq + 1);
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
