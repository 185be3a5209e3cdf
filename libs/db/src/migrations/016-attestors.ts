import { sql, type Kysely } from 'kysely';

/**
 * Attestors for real platforms. Issuers gain the kinds whose claims Mayfly maps (GitHub Actions,
 * GitLab CI, SPIFFE bundles, X.509 CAs), a trust domain for SPIFFE ID templates and, for X.509,
 * the CA certificates. Binding rules map verified claims to workloads; join tokens are one-time
 * bootstrap credentials (kept as digests); a session's SVID remembers the claims it was attested
 * with, for the policies of its grants.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE trusted_issuers DROP CONSTRAINT trusted_issuers_check;
    ALTER TABLE trusted_issuers DROP CONSTRAINT trusted_issuers_kind_check;
    ALTER TABLE trusted_issuers
      ADD COLUMN trust_domain text,
      ADD COLUMN ca_pem text,
      ADD CONSTRAINT trusted_issuers_kind_check
        CHECK (kind IN ('oidc', 'kubernetes', 'github-actions', 'gitlab-ci', 'spiffe', 'x509')),
      ADD CONSTRAINT trusted_issuers_keys_check
        CHECK (CASE WHEN kind = 'x509' THEN ca_pem IS NOT NULL ELSE (jwks_uri IS NOT NULL OR jwks IS NOT NULL) END);

    CREATE TABLE binding_rules (
      id                  uuid PRIMARY KEY,
      issuer              text NOT NULL REFERENCES trusted_issuers (issuer) ON DELETE CASCADE,
      match               jsonb NOT NULL DEFAULT '{}',
      spiffe_id_template  text NOT NULL,
      description         text NOT NULL DEFAULT '',
      created_by          text NOT NULL,
      created_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX binding_rules_issuer ON binding_rules (issuer);

    CREATE TABLE join_tokens (
      id            uuid PRIMARY KEY,
      digest        text NOT NULL UNIQUE,
      spiffe_id     text NOT NULL REFERENCES workloads (spiffe_id),
      expires_at    timestamptz NOT NULL,
      created_by    text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      used_at       timestamptz,
      CHECK (expires_at > created_at)
    );
    CREATE INDEX join_tokens_spiffe_id ON join_tokens (spiffe_id);

    ALTER TABLE svids
      ADD COLUMN attestor text NOT NULL DEFAULT '',
      ADD COLUMN issuer text NOT NULL DEFAULT '',
      ADD COLUMN claims jsonb NOT NULL DEFAULT '{}';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE svids DROP COLUMN claims, DROP COLUMN issuer, DROP COLUMN attestor;
    DROP TABLE join_tokens;
    DROP TABLE binding_rules;
    DELETE FROM trusted_issuers WHERE kind NOT IN ('oidc', 'kubernetes');
    ALTER TABLE trusted_issuers DROP CONSTRAINT trusted_issuers_keys_check, DROP CONSTRAINT trusted_issuers_kind_check;
    ALTER TABLE trusted_issuers DROP COLUMN ca_pem, DROP COLUMN trust_domain;
    ALTER TABLE trusted_issuers
      ADD CONSTRAINT trusted_issuers_check CHECK (jwks_uri IS NOT NULL OR jwks IS NOT NULL),
      ADD CONSTRAINT trusted_issuers_kind_check CHECK (kind IN ('oidc', 'kubernetes'));
  `.execute(db);
}
