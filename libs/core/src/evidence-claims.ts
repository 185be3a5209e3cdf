import type { IssuerKindName } from './issuer-kinds.js';

/**
 * The claims each kind of evidence issuer yields, once verified: the only names binding rules
 * may match or place into a SPIFFE ID template, and the only attributes policies find in
 * context.evidence.claims. Attestation maps each issuer's token to these; nothing else a token
 * carries is passed on. Decision's Cedar schema declares their union (a test keeps them equal).
 */
export const EVIDENCE_CLAIMS = {
  oidc: ['sub', 'trust_domain'],
  kubernetes: ['sub', 'trust_domain', 'namespace', 'service_account', 'service_account_uid', 'pod_name', 'pod_uid', 'node_name'],
  'github-actions': [
    'sub',
    'trust_domain',
    'repository',
    'repository_owner',
    'repository_id',
    'ref',
    'ref_type',
    'sha',
    'workflow',
    'workflow_ref',
    'job_workflow_ref',
    'environment',
    'event_name',
    'run_id',
    'run_attempt',
    'actor',
    'runner_environment',
  ],
  'gitlab-ci': [
    'sub',
    'trust_domain',
    'project_path',
    'project_id',
    'namespace_path',
    'ref',
    'ref_type',
    'ref_protected',
    'pipeline_id',
    'pipeline_source',
    'environment',
    'environment_protected',
    'job_id',
    'user_login',
  ],
  spiffe: ['sub', 'spiffe_id', 'trust_domain', 'path'],
  x509: ['sub', 'spiffe_id', 'trust_domain', 'path', 'subject', 'common_name', 'serial', 'issuer_subject'],
  'join-token': ['sub', 'spiffe_id', 'trust_domain', 'join_token_id'],
} as const satisfies Record<IssuerKindName | 'join-token', readonly string[]>;

export type EvidenceIssuerKind = keyof typeof EVIDENCE_CLAIMS;

/** Verified claims: claim name → value, only names from the kind's list. */
export type EvidenceClaims = Readonly<Record<string, string>>;

export function isEvidenceIssuerKind(kind: string): kind is EvidenceIssuerKind {
  return Object.hasOwn(EVIDENCE_CLAIMS, kind);
}

/** Every claim name any kind yields (the Cedar schema's EvidenceClaims record). */
export function allEvidenceClaimNames(): string[] {
  return [...new Set(Object.values(EVIDENCE_CLAIMS).flat())].sort();
}
