// @peculiar/x509 resolves its internals through tsyringe, which needs this polyfill first.
import 'reflect-metadata';
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** Where one identity's files are. */
export interface IdentityFiles {
  readonly spiffeId: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface DevPki {
  readonly trustDomain: string;
  readonly caFile: string;
  /**
   * The workload CA: signs workloads' X.509-SVIDs (attestation holds the key), and is the only
   * CA issuance accepts client certificates from. Separate from the services' mesh CA, so that
   * no workload certificate can pass for a Mayfly component or the other way round.
   */
  readonly workloadCaFile: string;
  readonly workloadCaKeyFile: string;
  /** Certificate and key of each identity, by name (a service name, or "operator"). */
  identity(name: string): IdentityFiles;
}

/** The SPIFFE ID of a Mayfly component: spiffe://<trust domain>/mayfly/<name>. */
export function mayflySpiffeId(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/mayfly/${name}`;
}

/**
 * A development certificate authority and one certificate per identity, for `npm start` and the
 * tests: ECDSA P-256, each leaf's SAN holding its SPIFFE ID (plus localhost and 127.0.0.1), valid
 * for both server and client authentication. Files are kept in `dir` (keys mode 0600) and reused
 * while they are valid for another day; production takes its certificates from configuration.
 */
export async function ensureDevPki(
  dir: string,
  trustDomain: string,
  names: readonly string[],
  options: {
    /** Host names to add to an identity's certificate (compose: the service's own name, which clients fetching the JWKS over https check). */
    dnsNames?: (name: string) => readonly string[];
  } = {},
): Promise<DevPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  /** A readable certificate that stays valid for at least another day. */
  const fresh = (file: string): boolean => {
    try {
      return new x509.X509Certificate(readFileSync(file, 'utf8')).notAfter.getTime() > Date.now() + DAY_MS;
    } catch {
      return false;
    }
  };

  if (!fresh(caFile) || !existsSync(caKeyFile)) {
    await writeSelfSignedCa(caFile, caKeyFile, `CN=Mayfly development CA (${trustDomain})`);
    // A new CA invalidates every leaf made by the old one: empty files are not fresh.
    for (const name of names) writeFileSync(join(dir, `${name}.pem`), '');
  }

  const workloadCaFile = join(dir, 'workload-ca.pem');
  const workloadCaKeyFile = join(dir, 'workload-ca-key.pem');
  if (!fresh(workloadCaFile) || !existsSync(workloadCaKeyFile)) {
    await writeSelfSignedCa(workloadCaFile, workloadCaKeyFile, `CN=Mayfly development workload CA (${trustDomain})`);
  }

  const ca = new x509.X509Certificate(readFileSync(caFile, 'utf8'));
  const caKey = await webcrypto.subtle.importKey('pkcs8', derOf(readFileSync(caKeyFile, 'utf8')), ALGORITHM, false, ['sign']);
  for (const name of names) {
    const certFile = join(dir, `${name}.pem`);
    if (fresh(certFile)) continue;
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${name}`,
      issuer: ca.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * DAY_MS),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        // Names its CA by key, not only by name: during a CA rotation the bundle holds two CAs
        // with the same subject, and verifiers pick the issuer by this identifier.
        await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: mayflySpiffeId(trustDomain, name) },
          { type: 'dns', value: 'localhost' },
          ...(options.dnsNames?.(name) ?? []).map((value) => ({ type: 'dns' as const, value })),
          { type: 'ip', value: '127.0.0.1' },
        ]),
      ],
    });
    writeFileSync(join(dir, `${name}-key.pem`), pemOf(keys.privateKey), { mode: 0o600 });
    writeFileSync(certFile, leaf.toString('pem'));
  }

  return {
    trustDomain,
    caFile,
    workloadCaFile,
    workloadCaKeyFile,
    identity: (name) => ({
      spiffeId: mayflySpiffeId(trustDomain, name),
      certFile: join(dir, `${name}.pem`),
      keyFile: join(dir, `${name}-key.pem`),
    }),
  };
}

async function writeSelfSignedCa(certFile: string, keyFile: string, name: string): Promise<void> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeFileSync(certFile, ca.toString('pem'));
  writeFileSync(keyFile, pemOf(keys.privateKey), { mode: 0o600 });
}

export function serial(): string {
  // Positive, 16 bytes: the top bit cleared.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function pemOf(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
