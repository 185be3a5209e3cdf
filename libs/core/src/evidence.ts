/**
 * The evidence table: every kind of evidence a workload may present, in one place. Attestation's
 * attestor catalog, request validation, the logger's redaction and every error message that lists
 * the kinds read it; a test (libs/model/src/evidence-table.test.ts) checks it covers every field
 * of the contract's Evidence message and that the logger censors each one.
 *
 * kind: the proto field name (what people read in errors); field: the same field as ts-proto
 * spells it; attestor: the attestor that verifies it; issuerKinds: who may issue it.
 */
export const EVIDENCE_TABLE = [
  { kind: 'oidc_token', field: 'oidcToken', attestor: 'oidc', issuerKinds: ['oidc', 'kubernetes', 'github-actions', 'gitlab-ci'], redacted: true },
  { kind: 'jwt_svid', field: 'jwtSvid', attestor: 'spiffe-jwt', issuerKinds: ['spiffe'], redacted: true },
  { kind: 'x509_assertion', field: 'x509Assertion', attestor: 'x509', issuerKinds: ['x509'], redacted: true },
  { kind: 'join_token', field: 'joinToken', attestor: 'join-token', issuerKinds: ['join-token'], redacted: true },
] as const;

export type EvidenceKind = (typeof EVIDENCE_TABLE)[number]['kind'];
export type EvidenceField = (typeof EVIDENCE_TABLE)[number]['field'];

/** The Evidence oneof's fields, as ts-proto spells them (core does not depend on the contract). */
export type EvidenceFields = { readonly [F in EvidenceField]?: string | undefined };

export const EVIDENCE_KINDS: readonly EvidenceKind[] = EVIDENCE_TABLE.map((row) => row.kind);

/** "evidence.oidc_token, jwt_svid, x509_assertion or join_token": for error messages. */
export const EVIDENCE_KINDS_SENTENCE = `evidence.${EVIDENCE_KINDS.slice(0, -1).join(', ')} or ${EVIDENCE_KINDS.at(-1)}`;

/** Log paths the logger censors because they hold evidence (every field, anywhere in a line). */
export const EVIDENCE_LOG_PATHS: readonly string[] = ['evidence', ...EVIDENCE_TABLE.filter((row) => row.redacted).map((row) => row.field)].flatMap((path) => [path, `*.${path}`]);

/** Which evidence fields are set, as [kind, value] pairs. */
export function setEvidence(evidence: EvidenceFields | undefined): [EvidenceKind, string][] {
  if (!evidence) return [];
  return EVIDENCE_TABLE.flatMap((row) => (evidence[row.field] ? [[row.kind, evidence[row.field]!] as [EvidenceKind, string]] : []));
}

/** The one piece of evidence presented, whichever kind it is; undefined when none is. */
export function presentedEvidence(evidence: EvidenceFields | undefined): string | undefined {
  return setEvidence(evidence)[0]?.[1];
}
