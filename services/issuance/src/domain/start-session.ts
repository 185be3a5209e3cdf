import { auditEvent } from '@mayfly/model';
import { EVIDENCE_KINDS_SENTENCE, MayflyError, invalidArgument, isMayflyError, presentedEvidence, validateToken } from '@mayfly/core';
import type { AuditEvent, Evidence, IssueSvidResponse, RotateSvidResponse, StartSessionRequest, StartSessionResponse } from '@mayfly/proto';
import type { GrantCall } from './grant-flow.js';
import type { PeerThrottle } from './peer-throttle.js';
import type { SessionCertificate } from './workload-identity.js';

/** What starting a session needs from the world. */
export interface SessionPorts {
  /** Attestation attests the evidence and signs an X.509-SVID for the key. */
  issueSvid(evidence: Evidence, publicKey: Uint8Array, deadline: Date | undefined): Promise<IssueSvidResponse>;
  /** Attestation signs the session's next X.509-SVID for the key, if the session may rotate. */
  rotateSvid(current: SessionCertificate, publicKey: Uint8Array, deadline: Date | undefined): Promise<RotateSvidResponse>;
  /** Commits audit events locally (the durable record). */
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Hands committed events to the audit service in the background. */
  deliverAudit(events: readonly AuditEvent[]): void;
}

const SOURCE = 'issuance';

/**
 * Attest once: evidence and a public key in, an X.509-SVID out, audited either way. The workload
 * then asks for grants over mutual TLS with the certificate, with no evidence and no attestation
 * hop; issuance reads who it is from the certificate. Without evidence, over mutual TLS with the
 * session's current certificate, the session rotates (attestation decides whether it may).
 */
export async function startSession(request: StartSessionRequest, call: GrantCall, ports: SessionPorts, throttle: PeerThrottle): Promise<StartSessionResponse> {
  const presented = presentedEvidence(request.evidence);
  if (!presented && !call.session && !call.sessionProblem) {
    throw invalidArgument('evidence', `is required (set one of ${EVIDENCE_KINDS_SENTENCE}), unless the call rotates a session over mutual TLS with its current certificate`);
  }
  if (presented) validateToken('evidence', presented);
  if (request.publicKey.length === 0) throw invalidArgument('public_key', 'is required: the DER SubjectPublicKeyInfo of a key the workload generated');
  if (presented) return attestSession(request.evidence!, request.publicKey, call, ports, throttle);
  if (call.sessionProblem) throw new MayflyError('ERR_SVID_REJECTED', call.sessionProblem);
  return rotateSession(call.session!, request.publicKey, call, ports);
}

/** Step: evidence → attestation → the session's first certificate. */
async function attestSession(evidence: Evidence, publicKey: Uint8Array, call: GrantCall, ports: SessionPorts, throttle: PeerThrottle): Promise<StartSessionResponse> {
  const events: AuditEvent[] = [];
  try {
    throttle.take(call.peer ?? 'unknown', (detail) => events.push(auditEvent(SOURCE, { kind: 'session.throttled', actor: 'unattested', outcome: 'denied', detail })));
    const svid = await ports.issueSvid(evidence, publicKey, call.deadline);
    events.push(
      auditEvent(SOURCE, {
        kind: 'session.started',
        actor: svid.spiffeId,
        outcome: 'success',
        detail: {
          svidSerial: svid.serial,
          expiresAt: svid.expiresAt?.toISOString(),
          ...(svid.rotatableUntil ? { rotatableUntil: svid.rotatableUntil.toISOString() } : {}),
          attestor: svid.attestor,
          issuer: svid.issuer,
          subject: svid.subject,
          evidenceDigest: svid.evidenceDigest,
          claims: Object.entries(svid.claims).map(([name, value]) => `${name}=${value}`),
        },
      }),
    );
    await record(events, ports);
    return { spiffeId: svid.spiffeId, certificatePem: svid.certificatePem, caPem: svid.caPem, serial: svid.serial, expiresAt: svid.expiresAt, rotatableUntil: svid.rotatableUntil };
  } catch (error) {
    if (isMayflyError(error, 'ERR_ATTESTATION_FAILED')) {
      events.push(auditEvent(SOURCE, { kind: 'attestation.failed', actor: 'unattested', outcome: 'failed', detail: { reason: error.message, for: 'session' } }));
    }
    if (events.length > 0) await record(events, ports).catch(() => undefined);
    throw error;
  }
}

/** Step: the current certificate → attestation → the session's next certificate; a refusal is audited too. */
async function rotateSession(current: SessionCertificate, publicKey: Uint8Array, call: GrantCall, ports: SessionPorts): Promise<StartSessionResponse> {
  let svid: RotateSvidResponse;
  try {
    svid = await ports.rotateSvid(current, publicKey, call.deadline);
  } catch (error) {
    if (isMayflyError(error, 'ERR_SVID_REJECTED') || isMayflyError(error, 'ERR_SESSION_NOT_ROTATABLE')) {
      const refused = auditEvent(SOURCE, { kind: 'session.rotation_refused', actor: current.spiffeId, outcome: 'denied', detail: { svidSerial: current.serial, reason: error.message } });
      await record([refused], ports).catch(() => undefined);
    }
    throw error;
  }
  const rotated = auditEvent(SOURCE, {
    kind: 'session.rotated',
    actor: svid.spiffeId,
    outcome: 'success',
    detail: { svidSerial: svid.serial, rotatedFrom: current.serial, expiresAt: svid.expiresAt?.toISOString(), rotatableUntil: svid.rotatableUntil?.toISOString(), attestor: svid.attestor },
  });
  await record([rotated], ports);
  return { spiffeId: svid.spiffeId, certificatePem: svid.certificatePem, caPem: svid.caPem, serial: svid.serial, expiresAt: svid.expiresAt, rotatableUntil: svid.rotatableUntil };
}

async function record(events: readonly AuditEvent[], ports: SessionPorts): Promise<void> {
  await ports.commitEvents(events);
  ports.deliverAudit(events);
}
