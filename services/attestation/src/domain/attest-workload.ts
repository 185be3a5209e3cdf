import { EVIDENCE_KINDS_SENTENCE, MayflyError, invalidArgument, setEvidence, validateToken } from '@mayfly/core';
import type { AttestResponse, Evidence } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import type { WorkloadRegistry } from './registry.js';

/**
 * Evidence → attested workload. The attestor proves who issued the evidence about whom and what
 * it verified; the registry's explicit bindings and binding rules decide which workload that is.
 * Unbound evidence proves nothing; a disabled workload is refused; and, unless its issuer's replay
 * policy says the evidence is reusable until it expires, evidence proves something only once: a
 * replay is refused.
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
  const refused = (reason: string) => new MayflyError('ERR_ATTESTATION_FAILED', `attestation failed (${attestor.name}): ${reason}`);
  const answer = await registry.consumeAndFind({
    digest: subject.evidenceDigest,
    issuer: subject.issuer,
    subject: subject.subject,
    expiresAt: subject.expiresAt,
    claims: subject.claims,
    boundSpiffeId: subject.boundSpiffeId,
  });
  if (!answer.firstUse && subject.replayPolicy === 'single-use') {
    throw refused(`this evidence has already been used; evidence from ${subject.issuer} is single-use, fetch fresh evidence`);
  }
  if (answer.problem) throw refused(answer.problem);
  if (!answer.workload) {
    const proven = answer.unregisteredSpiffeId ? `; ${answer.boundBy ?? 'a binding rule'} names ${answer.unregisteredSpiffeId}, which is not a registered workload` : '';
    throw refused(`subject "${subject.subject}" of issuer "${subject.issuer}" is not bound to a registered workload${proven}`);
  }
  if (answer.disabled) throw refused(`workload ${answer.workload.spiffeId} is disabled`);
  return {
    workload: answer.workload,
    attestor: subject.attestor,
    issuer: subject.issuer,
    subject: subject.subject,
    evidenceDigest: subject.evidenceDigest,
    evidenceExpiresAt: subject.expiresAt,
    claims: { ...subject.claims },
    rotatableUntil: subject.rotatableUntil,
  };
}

/** The one kind of evidence set (the first, in the evidence table's order), checked for size and characters. */
export function readEvidence(evidence: Evidence | undefined): { kind: EvidenceKind; payload: string } {
  const [presented] = setEvidence(evidence);
  if (!presented) throw invalidArgument('evidence', `is required (set one of ${EVIDENCE_KINDS_SENTENCE})`);
  const [kind, payload] = presented;
  validateToken(`evidence.${kind}`, payload);
  return { kind, payload };
}
