import { sql, type Kysely } from 'kysely';

/**
 * Revocations get a scope. A 'grant' revocation (every one before this migration) names one
 * grant and its token. A 'workload' revocation is a watermark: every token of spiffe_id issued
 * before not_before. A 'key' revocation names a signing key (key_id) whose every token is void.
 * Watermarks are one row and one stream event however many tokens they cover.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE revocations
      ADD COLUMN scope text NOT NULL DEFAULT 'grant' CHECK (scope IN ('grant', 'workload', 'key')),
      ADD COLUMN key_id text,
      ADD COLUMN not_before timestamptz,
      ALTER COLUMN grant_id DROP NOT NULL,
      ALTER COLUMN token_id DROP NOT NULL,
      ALTER COLUMN spiffe_id DROP NOT NULL,
      ALTER COLUMN task_id DROP NOT NULL,
      ADD CONSTRAINT revocations_scope_target CHECK (
        (scope = 'grant' AND grant_id IS NOT NULL AND token_id IS NOT NULL AND spiffe_id IS NOT NULL AND task_id IS NOT NULL AND key_id IS NULL AND not_before IS NULL)
        OR (scope = 'workload' AND spiffe_id IS NOT NULL AND not_before IS NOT NULL AND grant_id IS NULL AND key_id IS NULL)
        OR (scope = 'key' AND key_id IS NOT NULL AND grant_id IS NULL AND spiffe_id IS NULL AND not_before IS NULL)
      );
    -- Issuance reads the revoked signing keys every few seconds.
    CREATE INDEX revocations_keys ON revocations (key_id) WHERE scope = 'key';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX revocations_keys;
    DELETE FROM revocations WHERE scope <> 'grant';
    ALTER TABLE revocations
      DROP CONSTRAINT revocations_scope_target,
      DROP COLUMN not_before,
      DROP COLUMN key_id,
      DROP COLUMN scope,
      ALTER COLUMN grant_id SET NOT NULL,
      ALTER COLUMN token_id SET NOT NULL,
      ALTER COLUMN spiffe_id SET NOT NULL,
      ALTER COLUMN task_id SET NOT NULL;
  `.execute(db);
}
