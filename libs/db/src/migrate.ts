import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import pg from 'pg';
import * as initial from './migrations/001-initial.js';
import * as evidenceUses from './migrations/002-evidence-uses.js';
import * as issuerEvidenceRules from './migrations/003-issuer-evidence-rules.js';
import * as revocationStreamSequence from './migrations/004-revocation-stream-sequence.js';
import * as auditDeadLetters from './migrations/005-audit-dead-letters.js';
import type { Database } from './schema.js';

/** Migrations in order. Add new ones at the end; never edit one that has shipped. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-evidence-uses': evidenceUses,
  '003-issuer-evidence-rules': issuerEvidenceRules,
  '004-revocation-stream-sequence': revocationStreamSequence,
  '005-audit-dead-letters': auditDeadLetters,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Arbitrary, fixed key for the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 7_246_118_001;

/**
 * Brings the schema to the latest version. Several services migrate at start-up at the same
 * time; a session-level advisory lock makes them take turns, so that none sees a half-made
 * schema and concurrent CREATE TABLE races cannot happen.
 */
export async function migrateToLatest(db: Kysely<Database>, databaseUrl: string): Promise<void> {
  const lockClient = new pg.Client({ connectionString: databaseUrl });
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
    const failed = results?.find((result) => result.status === 'Error');
    if (error || failed) {
      throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
    }
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockClient.end();
  }
}
