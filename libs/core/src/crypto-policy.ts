/**
 * Mayfly's crypto policy: which JWS algorithms are accepted where, and why. Every verifier and
 * every default reads its list from here (attestation, the edge, approvers' ID tokens, the
 * registry's default for a new issuer), so the lists cannot drift apart again. Changing one is a
 * security decision: say why in the comment beside it.
 */

/**
 * Workload evidence (OIDC, Kubernetes, CI and JWT-SVID tokens; X.509 proof-of-possession
 * assertions): asymmetric algorithms only — an HMAC secret would have to be shared with
 * attestation, and "none" proves nothing. The RSA and ECDSA members at their common strength;
 * RS384/RS512/PS384/PS512 are left out until an issuer needs them (a smaller surface to check).
 */
export const EVIDENCE_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as const;

/**
 * What a trusted issuer accepts when the operator names no algorithms: the two that practically
 * every OIDC provider, Kubernetes and CI system sign with. Naming more is an explicit choice.
 */
export const DEFAULT_ISSUER_ALGORITHMS = ['ES256', 'RS256'] as const satisfies readonly EvidenceAlgorithm[];

/**
 * Mayfly's access tokens: issuance signs with Ed25519 only (small keys, deterministic signatures,
 * the fastest verification at the edge), so the edge accepts nothing else — an algorithm the
 * issuer never uses is only a way in.
 */
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';
export const ACCESS_TOKEN_ALGORITHMS = [ACCESS_TOKEN_ALGORITHM] as const;

/**
 * People's OIDC ID tokens (approvers, reviewers): whatever mainstream identity providers sign with;
 * asymmetric only, for the same reason as evidence.
 */
export const ID_TOKEN_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;

/** Signed records Mayfly makes itself (revocation feed, audit checkpoints and chain head): Ed25519. */
export const RECORD_SIGNATURE_ALGORITHM = 'EdDSA';

export type EvidenceAlgorithm = (typeof EVIDENCE_ALGORITHMS)[number];

export function isEvidenceAlgorithm(algorithm: string): algorithm is EvidenceAlgorithm {
  return (EVIDENCE_ALGORITHMS as readonly string[]).includes(algorithm);
}
