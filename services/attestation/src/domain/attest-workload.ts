import { MayflyError, invalidArgument, validateToken } from '@mayfly/core';
import type { AttestResponse, Evidence } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import type { WorkloadRegistry } from './registry.js';

/**
 * Evidence → attested workload. The attestor proves who issued the evidence about whom; the
 * registry's explicit binding decides which workload that is. Unbound evidence proves nothing;
 * a disabled workload is refused; and, unless its issuer's replay policy says the evidence is
 * reusable until it expires, evidence proves something only once: a replay is refused.
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
  const { firstUse, workload, disabled } = await registry.consumeAndFind({
    digest: subject.evidenceDigest,
    issuer: subject.issuer,
    subject: subject.subject,
    expiresAt: subject.expiresAt,
  });
  if (!firstUse && subject.replayPolicy === 'single-use') {
    throw new MayflyError('ERR_ATTESTATION_FAILED', `attestation failed (${attestor.name}): this evidence has already been used; evidence from ${subject.issuer} is single-use, fetch fresh evidence`);
  }
  if (!workload) {
    throw new MayflyError(
      'ERR_ATTESTATION_FAILED',
      `attestation failed (${attestor.name}): subject "${subject.subject}" of issuer "${subject.issuer}" is not bound to a registered workload`,
    );
  }
  if (disabled) {
    throw new MayflyError('ERR_ATTESTATION_FAILED', `attestation failed (${attestor.name}): workload ${workload.spiffeId} is disabled`);
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
