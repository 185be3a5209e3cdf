import { sql, type Kysely } from 'kysely';

/**
 * The column default of trusted_issuers.algorithms ({RS256,ES256,EdDSA}) disagreed with the
 * registry's (ES256, RS256). There is now one default, in the crypto policy
 * (libs/core/src/crypto-policy.ts, DEFAULT_ISSUER_ALGORITHMS), and every insert names its
 * algorithms: the column keeps no default, so a row written without them fails loudly instead of
 * trusting a list nobody chose. Issuers already stored keep the algorithms they have.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE trusted_issuers ALTER COLUMN algorithms DROP DEFAULT`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE trusted_issuers ALTER COLUMN algorithms SET DEFAULT '{RS256,ES256,EdDSA}'`.execute(db);
}
