import { sql, type Kysely } from 'kysely';

/**
 * Delegation (RFC 8693): a grant carved from another grant and held by another workload.
 * parent_grant_id is the grant it was carved from; ancestor_grant_ids every grant up to the root
 * (root first, parent last), so that ending a grant finds its whole subtree in one indexed
 * lookup; delegators the SPIFFE IDs that passed it on (the principal first). A grant requested
 * directly has none of them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE grants
      ADD COLUMN parent_grant_id uuid REFERENCES grants (id),
      ADD COLUMN ancestor_grant_ids uuid[] NOT NULL DEFAULT '{}',
      ADD COLUMN delegators text[] NOT NULL DEFAULT '{}',
      ADD CONSTRAINT grants_delegation_consistent CHECK (
        (parent_grant_id IS NULL AND cardinality(ancestor_grant_ids) = 0 AND cardinality(delegators) = 0)
        OR (parent_grant_id = ancestor_grant_ids[cardinality(ancestor_grant_ids)] AND cardinality(delegators) = cardinality(ancestor_grant_ids))
      );
    -- Ending a grant ends its live descendants: found by containment among active grants.
    CREATE INDEX grants_live_descendants ON grants USING gin (ancestor_grant_ids) WHERE status = 'active' AND parent_grant_id IS NOT NULL;
    -- Revoking a workload ends the live grants it delegated, whoever holds them now.
    CREATE INDEX grants_live_delegated_by ON grants USING gin (delegators) WHERE status = 'active' AND parent_grant_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX grants_live_delegated_by;
    DROP INDEX grants_live_descendants;
    ALTER TABLE grants
      DROP CONSTRAINT grants_delegation_consistent,
      DROP COLUMN delegators,
      DROP COLUMN ancestor_grant_ids,
      DROP COLUMN parent_grant_id;
  `.execute(db);
}
