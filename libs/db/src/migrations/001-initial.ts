import { sql, type Kysely } from 'kysely';

/** Registry, grants, revocations, the append-only audit log and the audit outbox. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE trusted_issuers (
      issuer      text PRIMARY KEY,
      audience    text NOT NULL,
      jwks_uri    text,
      jwks        jsonb,
      algorithms  text[] NOT NULL DEFAULT '{RS256,ES256,EdDSA}',
      created_at  timestamptz NOT NULL DEFAULT now(),
      CHECK (jwks_uri IS NOT NULL OR jwks IS NOT NULL)
    );

    CREATE TABLE workloads (
      spiffe_id     text PRIMARY KEY,
      owner_team    text NOT NULL,
      owner_contact text NOT NULL,
      environment   text NOT NULL,
      risk_tier     text NOT NULL CHECK (risk_tier IN ('low', 'medium', 'high', 'critical')),
      shared        boolean NOT NULL DEFAULT false,
      ceiling       jsonb NOT NULL DEFAULT '[]',
      created_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE workload_bindings (
      issuer      text NOT NULL REFERENCES trusted_issuers (issuer) ON DELETE CASCADE,
      subject     text NOT NULL,
      spiffe_id   text NOT NULL REFERENCES workloads (spiffe_id) ON DELETE CASCADE,
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (issuer, subject)
    );

    CREATE TABLE grants (
      id              uuid PRIMARY KEY,
      spiffe_id       text NOT NULL REFERENCES workloads (spiffe_id),
      task_id         text NOT NULL,
      task_kind       text NOT NULL,
      task_reference  text NOT NULL,
      task_deadline   timestamptz,
      resource        text NOT NULL,
      actions         text[] NOT NULL,
      status          text NOT NULL CHECK (status IN
                        ('pending_approval', 'active', 'completed', 'revoked', 'expired', 'denied')),
      token_id        uuid NOT NULL UNIQUE,
      policy_ids      text[] NOT NULL,
      policy_version  text NOT NULL,
      issued_at       timestamptz NOT NULL,
      expires_at      timestamptz NOT NULL,
      ended_at        timestamptz,
      end_reason      text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      CHECK (expires_at > issued_at)
    );
    CREATE INDEX grants_active_expiry ON grants (expires_at) WHERE status = 'active';
    CREATE INDEX grants_task ON grants (spiffe_id, task_id);

    CREATE TABLE revocations (
      id            uuid PRIMARY KEY,
      grant_id      uuid NOT NULL UNIQUE REFERENCES grants (id),
      token_id      uuid NOT NULL,
      spiffe_id     text NOT NULL,
      task_id       text NOT NULL,
      reason        text NOT NULL,
      requested_by  text NOT NULL,
      revoked_at    timestamptz NOT NULL,
      not_after     timestamptz NOT NULL,
      published_at  timestamptz
    );
    CREATE INDEX revocations_unpublished ON revocations (revoked_at) WHERE published_at IS NULL;

    CREATE TABLE audit_events (
      sequence     bigserial PRIMARY KEY,
      id           uuid NOT NULL UNIQUE,
      occurred_at  timestamptz NOT NULL,
      recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
      kind         text NOT NULL,
      actor        text NOT NULL,
      source       text NOT NULL,
      grant_id     uuid,
      task_id      text NOT NULL,
      outcome      text NOT NULL,
      detail       jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_events_grant ON audit_events (grant_id) WHERE grant_id IS NOT NULL;

    -- The audit log is append-only: the database itself refuses to change or remove a record.
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
    END $$;
    CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

    CREATE TABLE audit_outbox (
      id            uuid PRIMARY KEY,
      owner         text NOT NULL,
      payload       bytea NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      attempts      integer NOT NULL DEFAULT 0,
      last_error    text,
      delivered_at  timestamptz
    );
    CREATE INDEX audit_outbox_pending ON audit_outbox (owner, created_at) WHERE delivered_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE audit_outbox;
    DROP TABLE audit_events;
    DROP FUNCTION audit_events_append_only CASCADE;
    DROP TABLE revocations;
    DROP TABLE grants;
    DROP TABLE workload_bindings;
    DROP TABLE workloads;
    DROP TABLE trusted_issuers;
  `.execute(db);
}
