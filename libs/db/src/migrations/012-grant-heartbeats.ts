import { sql, type Kysely } from 'kysely';

/**
 * Liveness. A grant may require a heartbeat at least every heartbeat_interval_seconds (asked by
 * the request, or required by policy); last_heartbeat_at is the last one (or renewal). The
 * revocation service revokes active grants whose heartbeat is overdue (heartbeat_missed).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE grants
      ADD COLUMN heartbeat_interval_seconds integer CHECK (heartbeat_interval_seconds > 0),
      ADD COLUMN last_heartbeat_at timestamptz;
    -- The sweep reads only live grants that require liveness.
    CREATE INDEX grants_heartbeat_live ON grants (id) WHERE status = 'active' AND heartbeat_interval_seconds IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX grants_heartbeat_live;
    ALTER TABLE grants DROP COLUMN last_heartbeat_at, DROP COLUMN heartbeat_interval_seconds;
  `.execute(db);
}
