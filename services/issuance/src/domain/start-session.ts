import { invalidArgument, isMayflyError, presentedEvidence, validateToken } from '@mayfly/core';
import { auditEvent } from '@mayfly/audit-trail';
import type { AuditEvent, Evidence, IssueSvidResponse, StartSessionRequest, StartSessionResponse } from '@mayfly/proto';
import type { PeerThrottle } from './peer-throttle.js';

/** What starting a session needs from the world. */
export interface SessionPorts {
  /** Attestation attests the evidence and signs an X.509-SVID for the key. */
  issueSvid(evidence: Evidence, publicKey: Uint8Array, deadline: Date | undefined): Promise<IssueSvidResponse>;
  /** Commits audit events locally (the durable record). */
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Hands committed events to the audit service in the background. */
  deliverAudit(events: readonly AuditEvent[]): void;
}

const SOURCE = 'issuance';

/**
 * Attest once: evidence and a public key in, an X.509-SVID out, audited either way. The workload
 * then asks for grants over mutual TLS with the certificate, with no evidence and no attestation
 * hop; issuance reads who it is from the certificate.
 */
export async function startSession(
  request: StartSessionRequest,
  call: { peer: string; deadline: Date | undefined },
  ports: SessionPorts,
  throttle: PeerThrottle,
): Promise<StartSessionResponse> {
  const presented = presentedEvidence(request.evidence);
  if (!presented) throw invalidArgument('evidence', 'is required (set one of evidence.oidc_token, jwt_svid, x509_assertion, join_token)');
  validateToken('evidence', presented);
  if (request.publicKey.length === 0) throw invalidArgument('public_key', 'is required: the DER SubjectPublicKeyInfo of a key the workload generated');
  const events: AuditEvent[] = [];
  try {
    throttle.take(call.peer, (detail) => events.push(auditEvent(SOURCE, { kind: 'session.throttled', actor: 'unattested', outcome: 'denied', detail })));
    const svid = await ports.issueSvid(request.evidence!, request.publicKey, call.deadline);
    events.push(
      auditEvent(SOURCE, {
        kind: 'session.started',
        actor: svid.spiffeId,
        outcome: 'success',
        detail: {
          svidSerial: svid.serial,
          expiresAt: svid.expiresAt?.toISOString(),
          attestor: svid.attestor,
          issuer: svid.issuer,
          subject: svid.subject,
          evidenceDigest: svid.evidenceDigest,
          claims: Object.entries(svid.claims).map(([name, value]) => `${name}=${value}`),
        },
      }),
    );
    await record(events, ports);
    return { spiffeId: svid.spiffeId, certificatePem: svid.certificatePem, caPem: svid.caPem, serial: svid.serial, expiresAt: svid.expiresAt };
  } catch (error) {
    if (isMayflyError(error, 'ERR_ATTESTATION_FAILED')) {
      events.push(auditEvent(SOURCE, { kind: 'attestation.failed', actor: 'unattested', outcome: 'failed', detail: { reason: error.message, for: 'session' } }));
    }
    if (events.length > 0) await record(events, ports).catch(() => undefined);
    throw error;
  }
}

async function record(events: readonly AuditEvent[], ports: SessionPorts): Promise<void> {
  await ports.commitEvents(events);
  ports.deliverAudit(events);
}
