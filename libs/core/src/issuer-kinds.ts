import type { EvidenceKind } from './evidence.js';

/**
 * The issuer-kind table: each kind of issuer an operator can trust, with the contract's enum
 * name for it, the evidence its workloads present, and whether that evidence may attest twice by
 * default. The registry, the CLI, attestation's replay default and the claim catalog
 * (EVIDENCE_CLAIMS, keyed by these plus 'join-token') read it.
 */
export const ISSUER_KINDS = {
  oidc: { contract: 'ISSUER_KIND_OIDC', evidence: 'oidc_token', defaultReplay: 'single-use' },
  // kubelet rotates projected service-account tokens about hourly and a pod presents the same one
  // until then: single-use would refuse every grant after a pod's first.
  kubernetes: { contract: 'ISSUER_KIND_KUBERNETES', evidence: 'oidc_token', defaultReplay: 'reusable-until-expiry' },
  'github-actions': { contract: 'ISSUER_KIND_GITHUB_ACTIONS', evidence: 'oidc_token', defaultReplay: 'single-use' },
  'gitlab-ci': { contract: 'ISSUER_KIND_GITLAB_CI', evidence: 'oidc_token', defaultReplay: 'single-use' },
  spiffe: { contract: 'ISSUER_KIND_SPIFFE', evidence: 'jwt_svid', defaultReplay: 'single-use' },
  x509: { contract: 'ISSUER_KIND_X509', evidence: 'x509_assertion', defaultReplay: 'single-use' },
} as const satisfies Record<string, { contract: `ISSUER_KIND_${string}`; evidence: EvidenceKind; defaultReplay: ReplayPolicyName }>;

export type IssuerKindName = keyof typeof ISSUER_KINDS;
export type ReplayPolicyName = 'single-use' | 'reusable-until-expiry';
export type IssuerKindContractName = (typeof ISSUER_KINDS)[IssuerKindName]['contract'];

export const ISSUER_KIND_NAMES = Object.keys(ISSUER_KINDS) as IssuerKindName[];

export function isIssuerKindName(kind: string): kind is IssuerKindName {
  return Object.hasOwn(ISSUER_KINDS, kind);
}

/** The kind's name for the contract's enum name ('ISSUER_KIND_OIDC' → 'oidc'); undefined for none. */
export function issuerKindByContractName(contract: string): IssuerKindName | undefined {
  return ISSUER_KIND_NAMES.find((kind) => ISSUER_KINDS[kind].contract === contract);
}

/** Whether an issuer's evidence may attest again before it expires, when the operator did not say. */
export function defaultReplayPolicy(kind: IssuerKindName): ReplayPolicyName {
  return ISSUER_KINDS[kind].defaultReplay;
}
