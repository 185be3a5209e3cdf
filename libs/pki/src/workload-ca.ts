import 'reflect-metadata';
import { X509Certificate as NodeX509, createPublicKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { derOf, serial } from './dev-pki.js';

const SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** An X.509-SVID as signed: the certificate and what a registry records of it. */
export interface SignedSvid {
  readonly certificatePem: string;
  /** Lower-case hex, as node:crypto's X509Certificate reports it (upper-cased there). */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * The CA that signs workloads' X.509-SVIDs. Only attestation holds its key
 * (MAYFLY_WORKLOAD_CA_FILE, MAYFLY_WORKLOAD_CA_KEY_FILE); an ECDSA P-256 CA.
 */
export class WorkloadCa {
  private constructor(
    readonly certificatePem: string,
    private readonly certificate: x509.X509Certificate,
    private readonly key: webcrypto.CryptoKey,
  ) {}

  static async load(certFile: string, keyFile: string): Promise<WorkloadCa> {
    const pem = readFileSync(certFile, 'utf8');
    const key = await webcrypto.subtle.importKey('pkcs8', derOf(readFileSync(keyFile, 'utf8')), SIGNING, false, ['sign']);
    return new WorkloadCa(pem, new x509.X509Certificate(pem), key);
  }

  /**
   * Signs an X.509-SVID for `publicKey` (DER SubjectPublicKeyInfo, ECDSA P-256 or Ed25519): its
   * only URI SAN is the SPIFFE ID, no other name; a leaf for client and server authentication.
   */
  async signSvid(spiffeId: string, publicKey: Uint8Array, notAfter: Date): Promise<SignedSvid> {
    const workloadKey = await importWorkloadKey(publicKey);
    const notBefore = new Date(Date.now() - 30_000); // a little clock skew between hosts
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: 'O=Mayfly workload',
      issuer: this.certificate.subject,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: workloadKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate, false),
      ],
    });
    const certificatePem = certificate.toString('pem');
    const node = new NodeX509(certificatePem);
    return { certificatePem, serial: node.serialNumber.toLowerCase(), notBefore: new Date(node.validFrom), notAfter: new Date(node.validTo) };
  }
}

/** The workload's public key as WebCrypto wants it; refuses anything but P-256 and Ed25519. */
async function importWorkloadKey(spki: Uint8Array): Promise<webcrypto.CryptoKey> {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new Error('public_key is not a DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return webcrypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  }
  if (key.asymmetricKeyType === 'ed25519') return webcrypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, true, ['verify']);
  throw new Error(`public_key must be ECDSA P-256 or Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
}
