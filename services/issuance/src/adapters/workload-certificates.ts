import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MayflyError, isSpiffeId } from '@mayfly/core';
import type { SessionCertificate } from '../domain/workload-identity.js';

const invalid = (message: string): MayflyError => new MayflyError('ERR_INVALID_ARGUMENT', `delegate_certificate_pem: ${message}`, { field: 'delegate_certificate_pem' });

/**
 * Reads an X.509-SVID handed over in a request body (a delegate's certificate, so that a
 * delegated token can be bound to it): it must be signed by the workload CA, be valid now, and
 * name exactly one SPIFFE ID as its only URI SAN — what the TLS layer checks for a session.
 * Knowing a certificate grants nothing: only the holder of its key can present it to an edge.
 */
export class WorkloadCertificates {
  constructor(private readonly caFile: string | undefined) {}

  read(pem: string, now = new Date()): SessionCertificate {
    if (!this.caFile) throw new MayflyError('ERR_CONFIG', 'no workload CA is configured (MAYFLY_WORKLOAD_CA_FILE): tokens cannot be bound to a delegate\'s certificate');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw invalid('is not a PEM X.509 certificate');
    }
    // Re-read on each call: the CA file may be rotated, and delegations are rare next to grants.
    const ca = new X509Certificate(readFileSync(this.caFile));
    if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) throw invalid('is not signed by the workload CA: send the X.509-SVID the delegate got from StartSession');
    const notBefore = new Date(certificate.validFrom);
    const notAfter = new Date(certificate.validTo);
    if (notBefore.getTime() > now.getTime() || notAfter.getTime() <= now.getTime()) throw invalid(`is not valid now (valid ${notBefore.toISOString()} to ${notAfter.toISOString()}); the delegate should start a new session`);
    const uris = (certificate.subjectAltName ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.startsWith('URI:'))
      .map((entry) => entry.slice('URI:'.length));
    if (uris.length !== 1 || !isSpiffeId(uris[0]!)) throw invalid(`is not an X.509-SVID: it must name exactly one SPIFFE ID as its only URI SAN (it names ${uris.length})`);
    return {
      spiffeId: uris[0]!,
      serial: certificate.serialNumber.toLowerCase(),
      thumbprint: Buffer.from(certificate.fingerprint256.replaceAll(':', ''), 'hex').toString('base64url'),
      notBefore,
      notAfter,
    };
  }
}
