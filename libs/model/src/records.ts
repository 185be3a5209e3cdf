import type { IssuerKindName, ReplayPolicyName } from '@mayfly/core';

/**
 * The records Mayfly keeps, as the domain code reads them. The database adapter (@mayfly/db)
 * stores them; its table types are checked against these at compile time
 * (libs/db/src/schema-matches-model.ts), so a column change that the domain has not been taught
 * fails the build instead of reaching a decision. Field names are the stored ones: the mapping is
 * one to one, and a person reading SQL and domain code sees the same words.
 */

/** Statuses a grant moves through. Only ACTIVE grants have a live credential. */
export const GRANT_STATUSES = ['pending_approval', 'active', 'completed', 'revoked', 'expired', 'denied'] as const;
export type GrantStatusName = (typeof GRANT_STATUSES)[number];

export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTierName = (typeof RISK_TIERS)[number];

export interface EntitlementRow {
  resource: string;
  actions: string[];
}

/** What a workload's evidence proved. */
export interface AttestedEvidenceRow {
  readonly attestor: string;
  readonly issuer: string;
  readonly claims: Record<string, string>;
}

export interface StoredGrant {
  id: string;
  spiffe_id: string;
  task_id: string;
  task_kind: string;
  task_reference: string;
  task_deadline: Date | null;
  resource: string;
  actions: string[];
  status: GrantStatusName;
  /** The first token's jti (renewed tokens are kept apart). */
  token_id: string;
  policy_ids: string[];
  policy_version: string;
  issued_at: Date;
  /** When the newest token expires. */
  expires_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
  /** The latest any token of the grant may expire (renewals stop here). */
  renewable_until: Date;
  /** The first token's lifetime; each renewal gives it again, up to renewable_until. */
  token_lifetime_seconds: number;
  renewals: number;
  /** Set together, for a grant requested with an idempotency key. */
  idempotency_key: string | null;
  request_digest: string | null;
  token_reissue: string | null;
  /** Liveness: a heartbeat (or renewal) at least this often, else the grant is revoked. */
  heartbeat_interval_seconds: number | null;
  last_heartbeat_at: Date | null;
  /** Its one token may be used once; consumed_at is when an edge did. */
  single_use: boolean;
  consumed_at: Date | null;
  /** Delegation: the grant it was carved from, all its ancestors (root first), and who passed it on. */
  parent_grant_id: string | null;
  ancestor_grant_ids: string[];
  delegators: string[];
  /** Issued through break-glass; its after-action review, once recorded. */
  break_glass: boolean;
  /** Who must review a break-glass grant: a person in one of these groups. */
  review_groups: string[];
  reviewed_at: Date | null;
  reviewed_by: string | null;
  review: string | null;
  created_at: Date;
}

/** A grant as the services handle it (everything but bookkeeping columns). */
export type GrantRecord = Omit<StoredGrant, 'created_at' | 'reviewed_at' | 'reviewed_by' | 'review'>;

/** A request that waits for people: one per grant in status pending_approval. */
export interface ApprovalRequestRecord {
  grant_id: string;
  rule: string;
  approver_groups: string[];
  threshold: number;
  pending_until: Date;
  approval_valid_seconds: number;
  requested_ttl_seconds: number;
  policy_max_ttl_seconds: number;
  /** 0: no policy set one (the global maximum applies). */
  policy_max_grant_seconds: number;
  justification: string;
  /** SHA-256 (base64url) of the secret the workload collects its token with. */
  claim_secret_digest: string;
  /** The session certificate the token is to be bound to, if the request came in a session. */
  certificate_thumbprint: string | null;
  /** That certificate's serial: an approval refuses once it is revoked or expired. */
  certificate_serial: string | null;
  /** What the workload's evidence proved when it asked, for the decision at approval. */
  evidence: AttestedEvidenceRow | null;
  approved_at: Date | null;
  rejected_at: Date | null;
  created_at: Date;
}

/** One person's answer to a request (one per person and request). */
export interface ApprovalVoteRecord {
  grant_id: string;
  /** Who: `<issuer>#<sub>` (older votes hold the email or subject they were counted by). */
  approver: string;
  /** How they are shown: their verified email, else their subject (null on older votes). */
  approver_name: string | null;
  groups: string[];
  approved: boolean;
  reason: string;
  at: Date;
}

/** A registered workload. */
export interface WorkloadRecord {
  spiffe_id: string;
  owner_team: string;
  owner_contact: string;
  environment: string;
  risk_tier: RiskTierName;
  shared: boolean;
  ceiling: EntitlementRow[];
  /** Set while the workload is disabled: no session, no grant. */
  disabled_at: Date | null;
  /** It may ask for break-glass access at all. */
  break_glass_allowed: boolean;
  /** SVIDs issued before this are no longer accepted (compromise response). */
  svids_not_before: Date | null;
  created_at: Date;
}

/** An X.509-SVID attestation signed. */
export interface SvidRecord {
  serial: string;
  spiffe_id: string;
  evidence_digest: string;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  /** What the session was attested with: its grants' policies see the claims. */
  attestor: string;
  issuer: string;
  claims: Record<string, string>;
  /** Set when the session may rotate this certificate without evidence (a join token's), until then. */
  rotatable_until: Date | null;
  /** When it was rotated: it rotates once. */
  rotated_at: Date | null;
  /** The certificate this one replaced by rotation. */
  rotated_from: string | null;
  /** Rotated certificates: SHA-256 (hex) of the key's DER, and the PEM, to answer a retry again. */
  public_key_sha256: string | null;
  certificate_pem: string | null;
}

/** The kinds of issuer an operator can trust (core's issuer-kind table). */
export type IssuerKind = IssuerKindName;
export type ReplayPolicy = ReplayPolicyName;

/** An issuer whose tokens (or certificates) count as workload evidence. */
export interface TrustedIssuerRecord {
  issuer: string;
  /** Evidence must carry one of these in its aud. */
  audiences: string[];
  /** audiences[0], kept for replicas of the release before 018 during an upgrade. */
  audience: string;
  /** Where the issuer publishes its JWKS; or, instead, the JWKS itself in `jwks`. */
  jwks_uri: string | null;
  jwks: { keys: unknown[] } | null;
  algorithms: string[];
  /** Refuse high-S ECDSA signatures. */
  require_low_s: boolean;
  /** Refuse evidence valid for longer than this (exp − iat). */
  max_evidence_lifetime_seconds: number;
  kind: IssuerKind;
  /** Null: the kind's default (reusable for kubernetes, single-use otherwise). */
  replay_policy: ReplayPolicy | null;
  /** The trust domain its workloads belong to (the trust_domain claim), if set. */
  trust_domain: string | null;
  /** X.509 issuers: the CA certificates, PEM. */
  ca_pem: string | null;
  created_at: Date;
}

/** An issuer as an operator registers it. */
export interface TrustedIssuerInput {
  issuer: string;
  /** At least one: evidence must carry one of them in its aud. */
  audiences: string[];
  jwksUri?: string | undefined;
  jwks?: { keys: unknown[] } | undefined;
  algorithms?: string[] | undefined;
  /** Default true: refuse high-S ECDSA signatures. */
  requireLowS?: boolean | undefined;
  /** Default 86,400 (24 h). */
  maxEvidenceLifetimeSeconds?: number | undefined;
  /** Default 'oidc'. */
  kind?: IssuerKind | undefined;
  /** Default: the kind's (reusable-until-expiry for kubernetes, single-use otherwise). */
  replayPolicy?: ReplayPolicy | undefined;
  /** The trust_domain claim of its evidence (for SPIFFE ID templates). */
  trustDomain?: string | undefined;
  /** X.509 issuers: the CA certificates, PEM. */
  caPem?: string | undefined;
}

/** A workload as an operator registers it. */
export interface WorkloadInput {
  spiffeId: string;
  ownerTeam: string;
  ownerContact: string;
  environment: string;
  riskTier: RiskTierName;
  shared?: boolean;
  ceiling: EntitlementRow[];
  /** May ask for break-glass access (default false). */
  breakGlassAllowed?: boolean;
}

export type NewApprovalRequest = Omit<ApprovalRequestRecord, 'created_at' | 'approved_at' | 'rejected_at'>;

/** A grant pending approval with its request and the answers so far. */
export interface PendingApproval {
  readonly grant: StoredGrant;
  readonly request: ApprovalRequestRecord;
  readonly votes: readonly ApprovalVoteRecord[];
}

/** What an answer decided: the token issued (the grant becomes active), or the request ended. */
export type ApprovalOutcome =
  | {
      readonly kind: 'approved';
      readonly at: Date;
      readonly issuedAt: Date;
      readonly expiresAt: Date;
      readonly renewableUntil: Date;
      readonly tokenLifetimeSeconds: number;
      /** What it takes to sign the token again for its collection (never the token itself). */
      readonly tokenReissue: string;
    }
  | { readonly kind: 'rejected'; readonly at: Date; readonly reason: string };

export type RevocationScopeName = 'grant' | 'workload' | 'key';

/** One revocation: what the stream carries to every edge. */
export interface RevocationRecord {
  id: string;
  /** grant: one grant's token; workload: a not-before watermark; key: a signing key. */
  scope: RevocationScopeName;
  /** Set for scope 'grant' only (as are token_id and task_id). */
  grant_id: string | null;
  token_id: string | null;
  /** The grant's or the watermark's workload; null for a key. */
  spiffe_id: string | null;
  task_id: string | null;
  /** For scope 'key': the revoked kid. */
  key_id: string | null;
  /** For scope 'workload': its tokens issued before this are revoked. */
  not_before: Date | null;
  /** The grant ended because an edge consumed its single-use token. */
  consumed: boolean;
  reason: string;
  requested_by: string;
  revoked_at: Date;
  /** When the revoked token (the last token a watermark covers) would have expired; edges may forget the entry then. */
  not_after: Date;
  /** Set when the JetStream stream acknowledged the event. */
  published_at: Date | null;
  /** The event's sequence in the stream (bigint as text), set with published_at. */
  stream_sequence: string | null;
}

/** One audit event as the audit service stores it. */
export interface AuditEventRecord {
  /** Its place in the log (bigint as text), given by the database. */
  sequence: string;
  id: string;
  occurred_at: Date;
  recorded_at: Date;
  kind: string;
  actor: string;
  source: string;
  grant_id: string | null;
  task_id: string;
  outcome: string;
  detail: Record<string, unknown>;
}

/** Verified claims of one issuer equal to `match` prove the SPIFFE ID the template expands to. */
export interface BindingRuleRecord {
  id: string;
  issuer: string;
  match: Record<string, string>;
  spiffe_id_template: string;
  description: string;
  created_by: string;
  created_at: Date;
}

/** A one-time bootstrap credential for one workload; the secret is kept as its SHA-256. */
export interface JoinTokenRecord {
  id: string;
  digest: string;
  spiffe_id: string;
  expires_at: Date;
  created_by: string;
  created_at: Date;
  used_at: Date | null;
}

/** A system whose grants carry a login made for the grant (issue 22). */
export interface ResourceRecord {
  name: string;
  kind: 'postgresql' | 'mariadb' | 'redis';
  host: string;
  port: number;
  database: string;
  /** Where the admin connection URL is read from; the credential itself is never stored. */
  admin_credential_file: string;
  /** Each action → group roles (SQL) or ACL rules (Redis). */
  actions: Record<string, string[]>;
  connection_limit: number;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

/** One stored version of the policy set (the highest is active). */
export interface PolicySetRecord {
  version: number;
  digest: string;
  files: { name: string; text: string }[];
  created_by: string;
  reason: string;
  rolled_back_from: number | null;
  created_at: Date;
}

/** An X.509-SVID to record: what attestation signed, and what the session proved. */
export interface NewSvid {
  serial: string;
  spiffeId: string;
  evidenceDigest: string;
  issuedAt: Date;
  expiresAt: Date;
  attestor: string;
  issuer: string;
  claims: Readonly<Record<string, string>>;
  /** Set when the session may rotate this certificate without evidence, until then. */
  rotatableUntil?: Date | undefined;
  /** The certificate this one replaces by rotation. */
  rotatedFrom?: string | undefined;
  /** Rotated certificates: the key's digest and the PEM, to answer a retry for the same key again. */
  publicKeySha256?: string | undefined;
  certificatePem?: string | undefined;
}
