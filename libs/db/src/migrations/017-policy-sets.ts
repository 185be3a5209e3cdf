import { sql, type Kysely } from 'kysely';

/**
 * Policies and approval rules as versioned sets: each push (or rollback) is a new row with every
 * file of the set; the highest version is active. Decision replicas LISTEN on mayfly_policy_sets,
 * notified from the inserting transaction, and also re-check periodically.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE policy_sets (
      version           integer PRIMARY KEY CHECK (version > 0),
      digest            text NOT NULL,
      files             jsonb NOT NULL,
      created_by        text NOT NULL,
      reason            text NOT NULL DEFAULT '',
      rolled_back_from  integer REFERENCES policy_sets (version),
      created_at        timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE policy_sets;`.execute(db);
}
