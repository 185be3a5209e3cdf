import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { serial } from './dev-pki.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its private key, PEM. */
export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A CA that can issue: its certificate, and its key (kept as a WebCrypto key). */
export interface CertificateAuthority extends IssuedCertificate {
  readonly certificate: x509.X509Certificate;
  readonly key: webcrypto.CryptoKey;
}

/**
 * A small ECDSA P-256 PKI for development and tests: a root CA, intermediates under it, and client
 * certificates (with a SPIFFE ID as their one URI SAN, or a plain subject) — the shapes an
 * enterprise PKI or SPIRE hands out, so that the X.509 attestor is exercised with real chains.
 */
export async function createCertificateAuthority(options: { name: string; parent?: CertificateAuthority; validDays?: number }): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + (options.validDays ?? 365) * DAY_MS);
  const extensions = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const certificate = options.parent
    ? await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: options.name,
        issuer: options.parent.certificate.subject,
        notBefore,
        notAfter,
        signingAlgorithm: ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: options.parent.key,
        extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(options.parent.certificate, false)],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: serial(), name: options.name, notBefore, notAfter, signingAlgorithm: ALGORITHM, keys, extensions });
  return { certificate, key: keys.privateKey, certificatePem: certificate.toString('pem'), privateKeyPem: pemOf(keys.privateKey) };
}

/** A client certificate signed by `ca`: a SPIFFE ID as its only URI SAN (an X.509-SVID), or just a subject. */
export async function issueClientCertificate(
  ca: CertificateAuthority,
  options: { subject: string; spiffeId?: string; notBefore?: Date; notAfter?: Date; serverOnly?: boolean },
): Promise<IssuedCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: options.subject,
    issuer: ca.certificate.subject,
    notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: options.notAfter ?? new Date(Date.now() + DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      // A TLS server's certificate (serverOnly) is not meant to prove a client: tests use it to see that refused.
      new x509.ExtendedKeyUsageExtension([options.serverOnly ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false),
      ...(options.spiffeId ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: options.spiffeId }], true)] : []),
    ],
  });
  return { certificatePem: certificate.toString('pem'), privateKeyPem: pemOf(keys.privateKey) };
}

function pemOf(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}
