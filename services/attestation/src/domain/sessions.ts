import { LIMITS, MayflyError, invalidArgument, sanitizeText, sha256Hex, validateSpiffeId } from '@mayfly/core';
import { auditEvent, type SvidRecord } from '@mayfly/model';
import type { AttestResponse, IssueSvidResponse, RotateSvidRequest, RotateSvidResponse } from '@mayfly/proto';
import type { SessionControls, SvidSigner, SvidStore } from './ports.js';
import { svidExpiry } from './svid-lifetime.js';
import { repeatedRotation, rotatedSvidExpiry } from './svid-rotation.js';

const SOURCE = 'attestation';
const SERIAL = /^[0-9a-f]{1,64}$/;

export interface SessionOptions {
  /** MAYFLY_SVID_MAX_SECONDS: no session certificate lives longer. */
  readonly svidMaxSeconds: number;
}

/**
 * Session certificates (X.509-SVIDs): issued for evidence attestation accepted, rotated once
 * by a session that may, and recorded so that they can be revoked by serial or by workload.
 */
export class Sessions {
  constructor(
    private readonly store: SvidStore,
    /** Undefined when no workload CA is configured: then no sessions. */
    private readonly signer: SvidSigner | undefined,
    private readonly options: SessionOptions,
  ) {}

  /** Issues a certificate for a public key, to the workload `attested` names. */
  async issue(attested: AttestResponse, publicKey: Uint8Array, now = new Date()): Promise<IssueSvidResponse> {
    const signer = this.signerFor(publicKey);
    const spiffeId = attested.workload!.spiffeId;
    const expiresAt = svidExpiry(attested.evidenceExpiresAt ?? now, this.options.svidMaxSeconds);
    // `now` is the moment of issue, for "revoke every SVID issued before T" (the certificate's
    // notBefore is a little earlier, for clock skew between hosts).
    const svid = await signer.sign(spiffeId, publicKey, expiresAt);
    await this.store.record({
      serial: svid.serial,
      spiffeId,
      evidenceDigest: attested.evidenceDigest,
      issuedAt: now,
      expiresAt: svid.notAfter,
      attestor: attested.attestor,
      issuer: attested.issuer,
      claims: attested.claims,
      rotatableUntil: attested.rotatableUntil,
    });
    return {
      spiffeId,
      certificatePem: svid.certificatePem,
      caPem: signer.caPem,
      serial: svid.serial,
      expiresAt: svid.notAfter,
      attestor: attested.attestor,
      issuer: attested.issuer,
      subject: attested.subject,
      evidenceDigest: attested.evidenceDigest,
      claims: attested.claims,
      rotatableUntil: attested.rotatableUntil,
    };
  }

  /**
   * Rotates the certificate a session presents (see svid-rotation.ts for when it may). A retry
   * whose first answer was lost gets the same certificate again; two rotations at once, one wins.
   */
  async rotate(request: RotateSvidRequest, now = new Date()): Promise<RotateSvidResponse> {
    const signer = this.signerFor(request.publicKey);
    validateSpiffeId('spiffe_id', request.spiffeId);
    if (!SERIAL.test(request.serial)) throw invalidArgument('serial', 'must be the certificate serial in lower-case hex');
    const state = await this.store.sessionState(request.spiffeId, request.serial);
    const publicKeySha256 = sha256Hex(request.publicKey);
    if (state.svid?.rotated_at) {
      const again = repeatedRotation(request, state, await this.store.rotationSuccessor(request.serial), publicKeySha256, now);
      if (again) return { ...rotationAnswer(again, signer), certificatePem: again.certificate_pem! };
    }
    const expiresAt = rotatedSvidExpiry(request, state, this.options.svidMaxSeconds, now);
    const current = state.svid!;
    const svid = await signer.sign(request.spiffeId, request.publicKey, expiresAt);
    const recorded = await this.store.recordRotation(
      {
        serial: svid.serial,
        spiffeId: request.spiffeId,
        evidenceDigest: current.evidence_digest,
        issuedAt: now,
        expiresAt: svid.notAfter,
        attestor: current.attestor,
        issuer: current.issuer,
        claims: current.claims,
        rotatableUntil: current.rotatable_until ?? undefined,
        rotatedFrom: current.serial,
        publicKeySha256,
        certificatePem: svid.certificatePem,
      },
      now,
    );
    if (!recorded) throw new MayflyError('ERR_SVID_REJECTED', `certificate ${current.serial} was rotated or revoked meanwhile; a certificate rotates once`);
    return { ...rotationAnswer({ ...current, serial: svid.serial, expires_at: svid.notAfter }, signer), certificatePem: svid.certificatePem };
  }

  /** Throws unless a certificate could be issued for this key (a CA is configured, the key is sized right). */
  checkAvailable(publicKey: Uint8Array): void {
    this.signerFor(publicKey);
  }

  private signerFor(publicKey: Uint8Array): SvidSigner {
    if (!this.signer) throw new MayflyError('ERR_CONFIG', 'sessions are not available: no workload CA is configured (MAYFLY_WORKLOAD_CA_FILE, MAYFLY_WORKLOAD_CA_KEY_FILE)');
    if (publicKey.length === 0 || publicKey.length > 1024) throw invalidArgument('public_key', 'is required: a DER SubjectPublicKeyInfo of at most 1 KiB');
    return this.signer;
  }
}

/** A rotated certificate's record as RotateSvid's answer (the PEM is added by the caller). */
function rotationAnswer(svid: SvidRecord, signer: SvidSigner): Omit<RotateSvidResponse, 'certificatePem'> {
  return {
    spiffeId: svid.spiffe_id,
    caPem: signer.caPem,
    serial: svid.serial,
    expiresAt: svid.expires_at,
    rotatableUntil: svid.rotatable_until ?? undefined,
    attestor: svid.attestor,
    issuer: svid.issuer,
    claims: svid.claims,
  };
}

/** An operator's word on sessions: who, and why. */
export interface OperatorChange {
  readonly actor: string;
  readonly reason: string;
}

const reasonOf = (text: string): string => sanitizeText(text, LIMITS.reasonMaxLength) || 'no reason given';

/** Disables a workload (no session, no grant) or enables it again. */
export async function setWorkloadEnabled(controls: SessionControls, request: { spiffeId: string; enabled: boolean; reason: string }, actor: string, now = new Date()): Promise<void> {
  validateSpiffeId('spiffe_id', request.spiffeId);
  const reason = reasonOf(request.reason);
  const event = auditEvent(SOURCE, { kind: request.enabled ? 'workload.enabled' : 'workload.disabled', actor, outcome: 'success', occurredAt: now, detail: { spiffeId: request.spiffeId, reason } });
  if (!(await controls.setWorkloadDisabled(request.spiffeId, request.enabled ? null : now, event))) {
    throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `workload ${request.spiffeId} is not registered`);
  }
}

/** Revokes one session certificate by serial, or all of a workload's issued before a time. Returns whose they were. */
export async function revokeSvids(controls: SessionControls, request: { serial: string; spiffeId: string; issuedBefore?: Date | undefined; reason: string }, actor: string, now = new Date()): Promise<string> {
  const reason = reasonOf(request.reason);
  if (request.serial) {
    if (!SERIAL.test(request.serial)) throw invalidArgument('serial', 'must be the certificate serial in lower-case hex');
    const event = auditEvent(SOURCE, { kind: 'svid.revoked', actor, outcome: 'success', occurredAt: now, detail: { serial: request.serial, reason } });
    const revoked = await controls.revokeSvid(request.serial, reason, now, event);
    if (!revoked) throw new MayflyError('ERR_NOT_FOUND', `no SVID with serial ${request.serial}`);
    return revoked.spiffe_id;
  }
  validateSpiffeId('spiffe_id', request.spiffeId);
  const before = request.issuedBefore ?? now;
  const event = auditEvent(SOURCE, { kind: 'svid.revoked', actor, outcome: 'success', occurredAt: now, detail: { spiffeId: request.spiffeId, issuedBefore: before.toISOString(), reason } });
  if (!(await controls.revokeSvidsIssuedBefore(request.spiffeId, before, event))) {
    throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `workload ${request.spiffeId} is not registered`);
  }
  return request.spiffeId;
}
