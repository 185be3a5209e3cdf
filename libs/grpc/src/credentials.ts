import type { PeerCertificate } from 'node:tls';
import { ChannelCredentials, ServerCredentials, experimental } from '@grpc/grpc-js';
import { componentSpiffeId, tlsSettings, type ServiceName, type TlsSettings } from '@mayfly/config';
import { certificateFiles } from './certificate-files.js';

/**
 * The single place that decides how Mayfly's gRPC hops are secured.
 *
 * - Internal services: mutual TLS. Each service presents a certificate whose SAN is its SPIFFE
 *   ID (spiffe://<trust domain>/mayfly/<service>); servers require a client certificate from the
 *   same CA, and every RPC is then authorized by the caller's ID (see authorization.ts).
 * - Workload-facing services (issuance, edge verifier): TLS with server authentication; workloads
 *   prove themselves by their evidence, the grant's own token, or — at issuance — an optional
 *   client certificate (their X.509-SVID) from the workload CA, a CA of its own.
 * - Every client checks that the server's certificate carries the SPIFFE ID it meant to reach.
 * - Plaintext only with MAYFLY_INSECURE_DEV=true, and the service says so loudly at start.
 * - Certificates, keys and CA bundles are re-read from their files every MAYFLY_TLS_RELOAD_MS
 *   (see certificate-files.ts): rotation needs no restart, and open connections are untouched.
 */
export function transportSettings(requireIdentity: boolean): TlsSettings {
  return tlsSettings(undefined, { requireIdentity });
}

export interface ServerCredentialOptions {
  readonly requireClientCertificate: boolean;
  /**
   * Ask every client for a certificate, verify it against this CA (PEM file) if it sends one,
   * and let it in either way: a certificate that does not verify is as if none was sent. The
   * handler reads the verified certificate from the call. For optional workload certificates.
   */
  readonly optionalClientCaFile?: string | undefined;
}

export function serverCredentials(options: ServerCredentialOptions): ServerCredentials {
  const settings = transportSettings(true);
  if (settings.mode === 'insecure') return ServerCredentials.createInsecure();
  const identity = { certFile: settings.certFile, keyFile: settings.keyFile };
  const clientCaFile = options.optionalClientCaFile ?? (options.requireClientCertificate ? settings.caFile : undefined);
  if (!clientCaFile) {
    // Server authentication only: no client certificate is asked for. grpc-js 1.14 hands its
    // first argument on as the identity provider and its second as the CA provider (its
    // parameter names say otherwise); e2e 01 and 06 fail if a release changes that.
    return experimental.createCertificateProviderServerCredentials(certificateFiles(identity), null, false);
  }
  // One provider gives both the identity and the CA the client's certificate is checked against.
  // With an optional client CA, a client without a (valid) certificate still gets in: the
  // handler reads the verified certificate from the call, if any.
  const files = certificateFiles({ ...identity, caFile: clientCaFile });
  return experimental.createCertificateProviderServerCredentials(files, files, options.requireClientCertificate);
}

/**
 * Credentials to reach `target`; the server must prove it is that Mayfly component. With
 * `identity`, the client presents that certificate and key (PEM) instead of its configured
 * files: a workload's X.509-SVID, held in memory.
 */
export function channelCredentials(target: ServiceName, identity?: { certificatePem: string; privateKeyPem: string }): ChannelCredentials {
  const settings = transportSettings(false);
  if (settings.mode === 'insecure') return ChannelCredentials.createInsecure();
  const expected = componentSpiffeId(settings.trustDomain, target);
  const verifyOptions = {
    checkServerIdentity: (_hostname: string, certificate: PeerCertificate) =>
      spiffeIdsOf(certificate).includes(expected)
        ? undefined
        : new Error(`the server's certificate does not name ${expected} (it names ${spiffeIdsOf(certificate).join(', ') || 'no SPIFFE ID'})`),
  };
  const ca = certificateFiles({ caFile: settings.caFile });
  if (identity) {
    // A workload's X.509-SVID lives in memory and is renewed by starting a new session.
    return experimental.createCertificateProviderChannelCredentials(ca, staticIdentity(identity), verifyOptions);
  }
  const own = settings.certFile && settings.keyFile ? certificateFiles({ certFile: settings.certFile, keyFile: settings.keyFile }) : null;
  return experimental.createCertificateProviderChannelCredentials(ca, own, verifyOptions);
}

/** A certificate provider for an identity held in memory: it never changes. */
function staticIdentity(identity: { certificatePem: string; privateKeyPem: string }): experimental.CertificateProvider {
  const update = { certificate: Buffer.from(identity.certificatePem), privateKey: Buffer.from(identity.privateKeyPem) };
  return {
    addCaCertificateListener: () => undefined,
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => process.nextTick(() => listener(update)),
    removeIdentityCertificateListener: () => undefined,
  };
}

/** The SPIFFE IDs (URI SANs starting with spiffe://) in a certificate. */
export function spiffeIdsOf(certificate: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  return (certificate?.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('URI:spiffe://'))
    .map((entry) => entry.slice('URI:'.length));
}
