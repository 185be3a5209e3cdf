import type { PeerCertificate } from 'node:tls';
import { MayflyError, isSpiffeId } from '@mayfly/core';
import type { SessionCertificate } from '../domain/workload-identity.js';

/**
 * The X.509-SVID a caller presented, as the TLS layer verified it against the workload CA, or
 * undefined if it presented none that verified. An X.509-SVID names exactly one SPIFFE ID, in
 * its only URI SAN; anything else is refused.
 */
export function sessionCertificateOf(peer: PeerCertificate | undefined): SessionCertificate | undefined {
  if (!peer?.raw) return undefined;
  // The peer certificate object is the connection's (parsed once per connection, see
  // @mayfly/grpc's peer-certificate): so is what it says, worked out on its first call.
  let read = readOnce.get(peer);
  if (read === undefined) {
    read = readSessionCertificate(peer);
    readOnce.set(peer, read);
  }
  if ('problem' in read) throw new MayflyError('ERR_SVID_REJECTED', read.problem);
  return read;
}

const readOnce = new WeakMap<PeerCertificate, Readonly<SessionCertificate> | { problem: string }>();

function readSessionCertificate(peer: PeerCertificate): Readonly<SessionCertificate> | { problem: string } {
  const uris = (peer.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
  if (uris.length !== 1 || !isSpiffeId(uris[0]!)) {
    return { problem: `the client certificate is not an X.509-SVID: it must name exactly one SPIFFE ID as its only URI SAN (it names ${uris.length})` };
  }
  // The TLS layer has parsed it already: no second parse per grant.
  return Object.freeze({
    spiffeId: uris[0]!,
    serial: peer.serialNumber.toLowerCase(),
    // fingerprint256 is the SHA-256 of the DER, in colon-separated hex: the RFC 8705 thumbprint.
    thumbprint: Buffer.from(peer.fingerprint256.replaceAll(':', ''), 'hex').toString('base64url'),
    notBefore: new Date(peer.valid_from),
    notAfter: new Date(peer.valid_to),
  });
}
