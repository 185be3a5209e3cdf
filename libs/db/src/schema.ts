import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

import { GRANT_STATUSES, RISK_TIERS, type AttestedEvidenceRow, type EntitlementRow, type GrantStatusName, type IssuerKind, type ReplayPolicy, type RevocationScopeName, type RiskTierName } from '@mayfly/model';

export { GRANT_STATUSES, RISK_TIERS, type AttestedEvidenceRow, type EntitlementRow, type GrantStatusName, type IssuerKind, type ReplayPolicy, type RevocationScopeName, type RiskTierName };

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface TrustedIssuerTable {
  issuer: string;
  /** Evidence must carry one of these in its aud. */
  audiences: string[];
  /** audiences[0], kept for replicas of the release before 018 during an upgrade. */
  audience: string;
  /** Where the issuer publishes its JWKS; or, instead, the JWKS itself in `jwks`. */
  jwks_uri: string | null;
  jwks: ColumnType<{ keys: unknown[] } | null, string | null, string | null>;
  algorithms: string[];
  /** Refuse high-S ECDSA signatures. */
  require_low_s: Generated<boolean>;
  /** Refuse evidence valid for longer than this (exp − iat). */
  max_evidence_lifetime_seconds: Generated<number>;
  kind: Generated<IssuerKind>;
  /** Null: the kind's default (reusable for kubernetes, single-use otherwise). */
  replay_policy: ReplayPolicy | null;
  /** The trust domain its workloads belong to (the trust_domain claim), if set. */
  trust_domain: ColumnType<string | null, string | null | undefined, string | null>;
  /** X.509 issuers: the CA certificates, PEM. */
  ca_pem: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}


export interface WorkloadTable {
  spiffe_id: string;
  owner_team: string;
  owner_contact: string;
  environment: string;
  risk_tier: RiskTierName;
  shared: boolean;
  ceiling: ColumnType<EntitlementRow[], string, string>;
  /** Set while the workload is disabled: no session, no grant. */
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** It may ask for break-glass access at all (migration 023; default false). */
  break_glass_allowed: ColumnType<boolean, boolean | undefined, boolean>;
  /** SVIDs issued before this are no longer accepted (compromise response). */
  svids_not_before: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
}

/** An X.509-SVID attestation signed. */
export interface SvidTable {
  serial: string;
  spiffe_id: string;
  evidence_digest: string;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  /** What the session was attested with: its grants' policies see the claims. */
  attestor: Generated<string>;
  issuer: Generated<string>;
  claims: ColumnType<Record<string, string>, string | undefined, string>;
  /** Set when the session may rotate this certificate without evidence (a join token's), until then. */
  rotatable_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When it was rotated: it rotates once. */
  rotated_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The certificate this one replaced by rotation. */
  rotated_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** Rotated certificates: SHA-256 (hex) of the key's DER, and the PEM, to answer a retry again. */
  public_key_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  certificate_pem: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Verified claims of one issuer equal to `match` prove the SPIFFE ID the template expands to. */
export interface BindingRuleTable {
  id: string;
  issuer: string;
  match: ColumnType<Record<string, string>, string, string>;
  spiffe_id_template: string;
  description: string;
  created_by: string;
  created_at: CreatedAt;
}

/** One stored version of the policy set (the highest is active). */
export interface PolicySetTable {
  version: number;
  digest: string;
  files: ColumnType<{ name: string; text: string }[], string, never>;
  created_by: string;
  reason: string;
  rolled_back_from: number | null;
  created_at: CreatedAt;
}

/** A one-time bootstrap credential for one workload; the secret is kept as its SHA-256. */
export interface ResourceTable {
  name: string;
  kind: 'postgresql' | 'mariadb' | 'redis';
  host: string;
  port: number;
  database: string;
  admin_credential_file: string;
  actions: ColumnType<Record<string, string[]>, string, string>;
  connection_limit: number;
  updated_by: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface JoinTokenTable {
  id: string;
  digest: string;
  spiffe_id: string;
  expires_at: Date;
  created_by: string;
  created_at: CreatedAt;
  used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface WorkloadBindingTable {
  issuer: string;
  subject: string;
  spiffe_id: string;
  created_at: CreatedAt;
}

export interface GrantTable {
  id: string;
  spiffe_id: string;
  task_id: string;
  task_kind: string;
  task_reference: string;
  task_deadline: Date | null;
  resource: string;
  actions: string[];
  status: GrantStatusName;
  /** The first token's jti (renewed tokens are in grant_tokens). */
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
  renewals: ColumnType<number, number | undefined, number>;
  /** Set together, for a grant requested with an idempotency key (see migration 011). */
  idempotency_key: string | null;
  request_digest: string | null;
  token_reissue: string | null;
  /** Liveness: a heartbeat (or renewal) at least this often, else the grant is revoked. */
  heartbeat_interval_seconds: number | null;
  last_heartbeat_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Its one token may be used once; consumed_at is when an edge did. */
  single_use: ColumnType<boolean, boolean | undefined, boolean>;
  consumed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Delegation (migration 014): the grant it was carved from, all its ancestors (root first), and who passed it on. */
  parent_grant_id: ColumnType<string | null, string | null | undefined, never>;
  ancestor_grant_ids: ColumnType<string[], string[] | undefined, never>;
  delegators: ColumnType<string[], string[] | undefined, never>;
  /** Issued through break-glass (migration 015); its after-action review, once recorded. */
  break_glass: ColumnType<boolean, boolean | undefined, never>;
  /** Who must review a break-glass grant: a person in one of these groups (migration 023). */
  review_groups: ColumnType<string[], string[] | undefined, never>;
  reviewed_at: ColumnType<Date | null, never, Date>;
  reviewed_by: ColumnType<string | null, never, string>;
  review: ColumnType<string | null, never, string>;
  created_at: CreatedAt;
}

/** A request that waits for people: one per grant in status pending_approval (migration 015). */
export interface ApprovalRequestTable {
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
  /** That certificate's serial: an approval refuses once it is revoked or expired (migration 022). */
  certificate_serial: ColumnType<string | null, string | null | undefined, never>;
  /** What the workload's evidence proved when it asked ({attestor, issuer, claims}), for the decision at approval. */
  evidence: ColumnType<AttestedEvidenceRow | null, AttestedEvidenceRow | null | undefined, never>;
  approved_at: ColumnType<Date | null, Date | null | undefined, Date>;
  rejected_at: ColumnType<Date | null, Date | null | undefined, Date>;
  created_at: CreatedAt;
}

/** One person's answer to a request (one per person and request). */
export interface ApprovalVoteTable {
  grant_id: string;
  /** Who: `<issuer>#<sub>` (migration 020; older votes hold the email or subject they were counted by). */
  approver: string;
  /** How they are shown: their verified email, else their subject (null on votes before migration 020). */
  approver_name: string | null;
  groups: string[];
  approved: boolean;
  reason: string;
  at: Date;
}

/** A token issued by renewing a grant. */
export interface GrantTokenTable {
  token_id: string;
  grant_id: string;
  issued_at: Date;
  expires_at: Date;
}


export interface RevocationTable {
  id: string;
  /** grant: one grant's token; workload: a not-before watermark; key: a signing key. */
  scope: ColumnType<RevocationScopeName, RevocationScopeName | undefined, RevocationScopeName>;
  /** Set for scope 'grant' only (as are token_id and task_id). */
  grant_id: string | null;
  token_id: string | null;
  /** The grant's or the watermark's workload; null for a key. */
  spiffe_id: string | null;
  task_id: string | null;
  /** For scope 'key': the revoked kid. */
  key_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** For scope 'workload': its tokens issued before this are revoked. */
  not_before: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The grant ended because an edge consumed its single-use token. */
  consumed: ColumnType<boolean, boolean | undefined, boolean>;
  reason: string;
  requested_by: string;
  revoked_at: Date;
  /** When the revoked token (the last token a watermark covers) would have expired; edges may forget the entry then. */
  not_after: Date;
  /** Set when the JetStream stream acknowledged the event. */
  published_at: Date | null;
  /** The event's sequence in the stream (bigint as text), set with published_at. */
  stream_sequence: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AuditEventTable {
  sequence: Generated<string>;
  id: string;
  occurred_at: Date;
  recorded_at: Generated<Date>;
  kind: string;
  actor: string;
  source: string;
  grant_id: string | null;
  task_id: string;
  outcome: string;
  detail: ColumnType<Record<string, unknown>, string, never>;
}

/** Audit events a service has committed but the audit service has not yet acknowledged. */
/** One link of the audit hash chain (migration 008): made by the database on every insert. */
export interface AuditChainTable {
  position: Generated<string>;
  sequence: string;
  content_hash: Buffer;
  chain_hash: Buffer;
}

export interface AuditChainHeadTable {
  only_row: Generated<boolean>;
  position: string;
  chain_hash: Buffer;
}

/** A signed statement by the audit service: the chain's head at `position` was `chain_hash`. */
export interface AuditCheckpointTable {
  id: Generated<string>;
  position: string;
  chain_hash: Buffer;
  signed_at: Date;
  key_id: string;
  public_key: string;
  signature: Buffer;
  /** The checkpoint before it, signed with it (migration 021); null on checkpoints signed before. */
  previous_position: ColumnType<string | null, string | null | undefined, never>;
}

export interface AuditOutboxTable {
  id: string;
  owner: string;
  payload: Buffer;
  created_at: CreatedAt;
  attempts: Generated<number>;
  last_error: string | null;
  delivered_at: Date | null;
  /** Insertion order: events committed together are delivered in the order they happened. */
  position: Generated<string>;
  /** Set when the audit service refused the event too often; it is no longer retried. */
  dead_lettered_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface EvidenceUseTable {
  digest: string;
  issuer: string;
  subject: string;
  expires_at: Date;
  used_at: Generated<Date>;
}

export interface Database {
  evidence_uses: EvidenceUseTable;
  trusted_issuers: TrustedIssuerTable;
  workloads: WorkloadTable;
  workload_bindings: WorkloadBindingTable;
  grants: GrantTable;
  approval_requests: ApprovalRequestTable;
  approval_votes: ApprovalVoteTable;
  revocations: RevocationTable;
  grant_tokens: GrantTokenTable;
  audit_events: AuditEventTable;
  audit_chain: AuditChainTable;
  audit_chain_head: AuditChainHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  audit_outbox: AuditOutboxTable;
  svids: SvidTable;
  binding_rules: BindingRuleTable;
  join_tokens: JoinTokenTable;
  resources: ResourceTable;
  policy_sets: PolicySetTable;
}

export type GrantRow = Selectable<GrantTable>;
export type NewGrant = Insertable<GrantTable>;
/** A grant as the services handle it (everything but bookkeeping columns). */
export type GrantRecord = Omit<GrantRow, 'created_at' | 'reviewed_at' | 'reviewed_by' | 'review'>;
export type ApprovalRequestRow = Selectable<ApprovalRequestTable>;
export type ApprovalVoteRow = Selectable<ApprovalVoteTable>;
export type WorkloadRow = Selectable<WorkloadTable>;
export type TrustedIssuerRow = Selectable<TrustedIssuerTable>;
export type RevocationRow = Selectable<RevocationTable>;
export type AuditEventRow = Selectable<AuditEventTable>;
export type SvidRow = Selectable<SvidTable>;
export type BindingRuleRow = Selectable<BindingRuleTable>;
export type JoinTokenRow = Selectable<JoinTokenTable>;
export type ResourceRow = Selectable<ResourceTable>;
export type PolicySetRow = Selectable<PolicySetTable>;
