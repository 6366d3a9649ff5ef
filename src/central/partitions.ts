import type { Pool, PoolClient } from 'pg';

/** `events` partitions by month of the business day, created the first time a month is seen. */
export class MonthlyPartitions {
  private readonly known = new Set<string>();

  /** Creates the partitions of the days' months not seen yet; a connection is taken only then. */
  async ensure(pool: Pool, days: Iterable<string>): Promise<void> {
    const months = new Set<string>();
    for (const day of days) if (!this.known.has(day.slice(0, 7))) months.add(day.slice(0, 7));
    if (months.size === 0) return;
    const client = await pool.connect();
    try {
      for (const month of months) await this.create(client, month);
    } finally {
      client.release();
    }
  }

  private async create(client: PoolClient, month: string): Promise<void> {
    const [year, mon] = month.split('-').map(Number) as [number, number];
    const next = mon === 12 ? `${year + 1}-01` : `${year}-${String(mon + 1).padStart(2, '0')}`;
    const name = `events_y${year}m${String(mon).padStart(2, '0')}`;
    // Two collectors may meet a new month at once: the lock makes the second see the first's table.
    await client.query('BEGIN');
    try {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('hall-edge-collector-partitions'))");
      await client.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF events FOR VALUES FROM ('${month}-01') TO ('${next}-01')`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.known.add(month);
  }
}
