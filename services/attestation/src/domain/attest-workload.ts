import { MayflyError, invalidArgument, validateToken } from '@mayfly/core';
import type { AttestResponse, Evidence } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import type { WorkloadRegistry } from './registry.js';

/**
 * Evidence → attested workload. The attestor proves who issued the evidence about whom; the
 * registry's explicit binding decides which workload that is. Unbound evidence proves nothing.
 */
export async function attestWorkload(
  evidence: Evidence | undefined,
  attestors: ReadonlyMap<EvidenceKind, Attestor>,
  registry: WorkloadRegistry,
): Promise<AttestResponse> {
  const { kind, payload } = readEvidence(evidence);
  const attestor = attestors.get(kind);
  if (!attestor) throw invalidArgument('evidence', `no attestor handles evidence of kind "${kind}"`);

  const subject = await attestor.attest(payload);
  const workload = await registry.findBound(subject.issuer, subject.subject);
  if (!workload) {
    throw new MayflyError(
      'ERR_ATTESTATION_FAILED',
      `attestation failed (${attestor.name}): subject "${subject.subject}" of issuer "${subject.issuer}" is not bound to a registered workload`,
    );
  }
  return {
    workload,
    attestor: subject.attestor,
    issuer: subject.issuer,
    subject: subject.subject,
    evidenceDigest: subject.evidenceDigest,
    evidenceExpiresAt: subject.expiresAt,
  };
}

function readEvidence(evidence: Evidence | undefined): { kind: EvidenceKind; payload: string } {
  if (evidence?.oidcToken) {
    validateToken('evidence.oidc_token', evidence.oidcToken);
    return { kind: 'oidc_token', payload: evidence.oidcToken };
  }
  throw invalidArgument('evidence', 'is required (set evidence.oidc_token)');
}
