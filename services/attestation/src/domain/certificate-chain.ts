import { X509Certificate } from 'node:crypto';

/** id-kp-clientAuth: a certificate that names its uses must name this one to prove a client. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Longest chain accepted in x5c: leaf, intermediates; the CA itself may be its last element. */
export const MAX_CHAIN_LENGTH = 5;

/** Reads the PEM certificates of a bundle (a registered CA may hold several). */
export function readPemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * Why `chain` (leaf first) does not lead to one of `anchors` at `now`, or undefined when it does:
 * each certificate is within its validity, signed by the next, every signer is a CA, the leaf is
 * not (and is for client authentication, if it names its uses), and the last certificate is an
 * anchor or is signed by one. Revocation (CRL, OCSP) is not checked: short-lived certificates and
 * removing the CA are the controls.
 */
export function chainProblem(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], now: Date): string | undefined {
  const [leaf] = chain;
  if (!leaf) return 'x5c holds no certificate';
  if (leaf.ca) return 'the leaf certificate is a CA certificate; present the workload certificate first in x5c';
  // Node lists the extended key usages here; none listed means any use.
  const usages = leaf.keyUsage ?? [];
  if (usages.length > 0 && !usages.includes(CLIENT_AUTH)) return 'the certificate is not for client authentication (its extended key usage lacks clientAuth)';
  for (const [index, certificate] of chain.entries()) {
    if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
      return `certificate ${index} in x5c (${oneLine(certificate.subject)}) is outside its validity (${certificate.validFrom} – ${certificate.validTo})`;
    }
  }
  for (let index = 0; index + 1 < chain.length; index++) {
    const child = chain[index]!;
    const parent = chain[index + 1]!;
    if (!parent.ca) return `certificate ${index + 1} in x5c (${oneLine(parent.subject)}) is not a CA, yet certificate ${index} claims it as its issuer`;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return `certificate ${index} in x5c is not signed by certificate ${index + 1}`;
  }
  const last = chain[chain.length - 1]!;
  const anchored = anchors.some((anchor) => anchor.fingerprint256 === last.fingerprint256 || (last.checkIssued(anchor) && last.verify(anchor.publicKey)));
  return anchored ? undefined : `the chain does not lead to this CA (last certificate issued by ${oneLine(last.issuer)})`;
}

/** The URI SANs of a certificate ("URI:spiffe://…" entries of subjectAltName). */
export function uriSans(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

/** "CN=a\nO=b" → "CN=a, O=b". */
export function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** The CN of a distinguished name as Node prints it, if any. */
export function commonName(name: string): string | undefined {
  return name.split('\n').find((part) => part.startsWith('CN='))?.slice(3);
}
