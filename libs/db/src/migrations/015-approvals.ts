import { sql, type Kysely } from 'kysely';

/**
 * Approvals and break-glass. A request that policy sends for approval is a grant in status
 * pending_approval (no token yet) with one approval_requests row: the rule it waits on, what the
 * decision allowed (to issue the token from at approval), the digest of the claim secret its
 * workload collects the token with, and the certificate the token is to be bound to. Each
 * person's answer is one approval_votes row (one per person: a second approval counts once).
 * A grant issued through break-glass carries break_glass and, once someone reviewed it, the
 * review.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE approval_requests (
      grant_id                 uuid PRIMARY KEY REFERENCES grants (id),
      rule                     text NOT NULL,
      approver_groups          text[] NOT NULL CHECK (cardinality(approver_groups) > 0),
      threshold                integer NOT NULL CHECK (threshold > 0),
      pending_until            timestamptz NOT NULL,
      approval_valid_seconds   integer NOT NULL CHECK (approval_valid_seconds > 0),
      requested_ttl_seconds    integer NOT NULL CHECK (requested_ttl_seconds > 0),
      policy_max_ttl_seconds   integer NOT NULL CHECK (policy_max_ttl_seconds > 0),
      policy_max_grant_seconds integer NOT NULL CHECK (policy_max_grant_seconds >= 0),
      justification            text NOT NULL,
      claim_secret_digest      text NOT NULL,
      certificate_thumbprint   text,
      approved_at              timestamptz,
      rejected_at              timestamptz,
      created_at               timestamptz NOT NULL DEFAULT now(),
      CHECK (approved_at IS NULL OR rejected_at IS NULL)
    );
    CREATE TABLE approval_votes (
      grant_id  uuid NOT NULL REFERENCES approval_requests (grant_id),
      approver  text NOT NULL,
      groups    text[] NOT NULL,
      approved  boolean NOT NULL,
      reason    text NOT NULL,
      at        timestamptz NOT NULL,
      PRIMARY KEY (grant_id, approver)
    );
    -- Pending requests end (expired) at expires_at, which is their pending_until.
    CREATE INDEX grants_pending ON grants (expires_at) WHERE status = 'pending_approval';
    ALTER TABLE grants
      ADD COLUMN break_glass boolean NOT NULL DEFAULT false,
      ADD COLUMN reviewed_at timestamptz,
      ADD COLUMN reviewed_by text,
      ADD COLUMN review text,
      ADD CONSTRAINT grants_review_of_break_glass CHECK (reviewed_at IS NULL OR break_glass);
    CREATE INDEX grants_unreviewed_break_glass ON grants (issued_at) WHERE break_glass AND reviewed_at IS NULL;
    -- An approved grant keeps its token's signing input too (its workload collects the token
    -- later, perhaps more than once): token_reissue no longer implies an idempotency key.
    ALTER TABLE grants
      DROP CONSTRAINT grants_idempotency_complete,
      ADD CONSTRAINT grants_idempotency_complete CHECK ((idempotency_key IS NULL) = (request_digest IS NULL) AND (idempotency_key IS NULL OR token_reissue IS NOT NULL));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE grants SET token_reissue = NULL WHERE idempotency_key IS NULL;
    ALTER TABLE grants
      DROP CONSTRAINT grants_idempotency_complete,
      ADD CONSTRAINT grants_idempotency_complete CHECK ((idempotency_key IS NULL) = (request_digest IS NULL) AND (idempotency_key IS NULL) = (token_reissue IS NULL));
    DROP INDEX grants_unreviewed_break_glass;
    ALTER TABLE grants
      DROP CONSTRAINT grants_review_of_break_glass,
      DROP COLUMN review,
      DROP COLUMN reviewed_by,
      DROP COLUMN reviewed_at,
      DROP COLUMN break_glass;
    DROP INDEX grants_pending;
    DROP TABLE approval_votes;
    DROP TABLE approval_requests;
  `.execute(db);
}
