import { sql, type Kysely } from 'kysely';

/**
 * Attested sessions. Each X.509-SVID attestation signs is recorded (so that it can be revoked
 * by serial); a workload can be disabled, and all its SVIDs issued before a time revoked at once
 * (`svids_not_before`). Trusted issuers get a kind and a replay policy: evidence is single-use,
 * or reusable until it expires (Kubernetes projected service-account tokens).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE workloads
      ADD COLUMN disabled_at timestamptz,
      ADD COLUMN svids_not_before timestamptz;

    CREATE TABLE svids (
      serial          text PRIMARY KEY,
      spiffe_id       text NOT NULL REFERENCES workloads (spiffe_id) ON DELETE CASCADE,
      evidence_digest text NOT NULL,
      issued_at       timestamptz NOT NULL,
      expires_at      timestamptz NOT NULL,
      revoked_at      timestamptz,
      revoke_reason   text,
      CHECK (expires_at > issued_at)
    );
    CREATE INDEX svids_expiry ON svids (expires_at);

    ALTER TABLE trusted_issuers
      ADD COLUMN kind text NOT NULL DEFAULT 'oidc' CHECK (kind IN ('oidc', 'kubernetes')),
      ADD COLUMN replay_policy text CHECK (replay_policy IN ('single-use', 'reusable-until-expiry'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE trusted_issuers DROP COLUMN replay_policy, DROP COLUMN kind;
    DROP TABLE svids;
    ALTER TABLE workloads DROP COLUMN svids_not_before, DROP COLUMN disabled_at;
  `.execute(db);
}
