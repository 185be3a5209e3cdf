import type { AttestedEvidence, Workload } from '@mayfly/proto';

/** The X.509-SVID a workload presented over mutual TLS, as the TLS layer verified it. */
export interface SessionCertificate {
  readonly spiffeId: string;
  readonly serial: string;
  /** RFC 8705 thumbprint: base64url SHA-256 of the DER; tokens of this session are bound to it. */
  readonly thumbprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Who is asking, and how Mayfly knows. */
export type WorkloadIdentity =
  | {
      readonly via: 'session';
      readonly workload: Workload;
      readonly certificate: SessionCertificate;
      /** What the session was attested with (policies see it as context.evidence). */
      readonly evidence: AttestedEvidence;
    }
  | {
      readonly via: 'evidence';
      readonly workload: Workload;
      readonly attestor: string;
      readonly issuer: string;
      readonly subject: string;
      readonly evidenceDigest: string;
      readonly evidence: AttestedEvidence;
    };

/** A session certificate, accepted: its workload and what the session was attested with. */
export interface SessionWorkload {
  readonly workload: Workload;
  readonly evidence: AttestedEvidence;
}

/** Audit detail that says how the workload proved itself. */
export function identityDetail(identity: WorkloadIdentity): Record<string, unknown> {
  return identity.via === 'session'
    ? { via: 'session', svidSerial: identity.certificate.serial, certificateThumbprint: identity.certificate.thumbprint }
    : {
        via: 'evidence',
        attestor: identity.attestor,
        issuer: identity.issuer,
        subject: identity.subject,
        evidenceDigest: identity.evidenceDigest,
        claims: Object.entries(identity.evidence.claims).map(([name, value]) => `${name}=${value}`),
      };
}
