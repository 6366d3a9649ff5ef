import type { PoolClient } from 'pg';

/**
 * The central database, created and migrated by the collector itself. Migrations are numbered;
 * entry i takes the schema from version i to i+1; never edit one that has shipped. They run
 * under an advisory lock, so collectors starting together migrate once.
 *
 * `events` is partitioned by month of the business day (partitions.ts creates them as events
 * arrive), so a year of a city stays fast and old months can be detached whole. Its key is
 * (hall_id, day, seq): a hall's seq always falls on the same day, so insert-if-absent on that
 * key stores each (hall, seq) exactly once whatever the redelivery.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE events (
    hall_id     text        NOT NULL,
    seq         bigint      NOT NULL,
    day         date        NOT NULL,
    at          timestamptz NOT NULL,
    type        text        NOT NULL,
    body        jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, day, seq)
  ) PARTITION BY RANGE (day);
  CREATE INDEX events_by_hall_seq ON events (hall_id, seq);

  -- Everything up to 'contiguous' is stored; 'max_seq' is the highest seen (a gap lies between).
  CREATE TABLE hall_cursors (
    hall_id        text PRIMARY KEY,
    contiguous     bigint      NOT NULL DEFAULT 0,
    max_seq        bigint      NOT NULL DEFAULT 0,
    -- The hall's own journal head, from its retained uplink/head: a missing tail shows against it.
    head           bigint      NOT NULL DEFAULT 0,
    replay_asked_at timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
  );

  -- The hall's own DayStats (src/queue/stats.ts) recomputed from the stored events.
  CREATE TABLE hall_day_stats (
    hall_id    text        NOT NULL,
    day        date        NOT NULL,
    events     integer     NOT NULL,
    stats      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, day)
  );

  -- The hall's retained documents, mirrored by its uplink.
  CREATE TABLE halls (
    hall_id    text PRIMARY KEY,
    name       jsonb,
    time_zone  text,
    services   jsonb,
    windows    jsonb,
    info       jsonb,
    link_state text,
    last_seen  timestamptz
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export async function migrate(client: PoolClient): Promise<{ from: number; to: number }> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('hall-edge-collector-migrations'))");
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const from = rows[0]?.version ?? 0;
    if (from > SCHEMA_VERSION) throw new Error(`the database's schema is version ${from}, newer than this collector's ${SCHEMA_VERSION}: upgrade hall-edge`);
    for (let version = from; version < SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
    }
    await client.query('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
