import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { MayflyError } from '@mayfly/core';
import type { SessionCertificate } from '../domain/workload-identity.js';

/**
 * The X.509-SVID a caller presented, as the TLS layer verified it against the workload CA, or
 * undefined if it presented none that verified. An X.509-SVID names exactly one SPIFFE ID, in
 * its only URI SAN; anything else is refused.
 */
export function sessionCertificateOf(peer: PeerCertificate | undefined): SessionCertificate | undefined {
  if (!peer?.raw) return undefined;
  const uris = (peer.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
  if (uris.length !== 1 || !uris[0]!.startsWith('spiffe://')) {
    throw new MayflyError('ERR_SVID_REJECTED', `the client certificate is not an X.509-SVID: it must name exactly one SPIFFE ID as its only URI SAN (it names ${uris.length})`);
  }
  const x509 = new X509Certificate(peer.raw);
  return {
    spiffeId: uris[0]!,
    serial: x509.serialNumber.toLowerCase(),
    thumbprint: createHash('sha256').update(peer.raw).digest('base64url'),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}
