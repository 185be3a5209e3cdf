import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { ChannelCredentials, ServerCredentials, experimental } from '@grpc/grpc-js';
import { componentSpiffeId, tlsSettings, type ServiceName, type TlsSettings } from '@mayfly/config';

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
  if (options.optionalClientCaFile) {
    // grpc-js's certificate-provider credentials set requestCert without rejectUnauthorized,
    // which plain createSsl cannot; the files are re-read every minute (rotation).
    const provider = new experimental.FileWatcherCertificateProvider({
      certificateFile: settings.certFile,
      privateKeyFile: settings.keyFile,
      caCertificateFile: options.optionalClientCaFile,
      refreshIntervalMs: 60_000,
    });
    return experimental.createCertificateProviderServerCredentials(provider, provider, false);
  }
  return ServerCredentials.createSsl(
    readFileSync(settings.caFile),
    [{ cert_chain: readFileSync(settings.certFile!), private_key: readFileSync(settings.keyFile!) }],
    options.requireClientCertificate,
  );
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
  return ChannelCredentials.createSsl(
    readFileSync(settings.caFile),
    identity ? Buffer.from(identity.privateKeyPem) : settings.keyFile ? readFileSync(settings.keyFile) : null,
    identity ? Buffer.from(identity.certificatePem) : settings.certFile ? readFileSync(settings.certFile) : null,
    {
      checkServerIdentity: (_hostname: string, certificate: PeerCertificate) =>
        spiffeIdsOf(certificate).includes(expected)
          ? undefined
          : new Error(`the server's certificate does not name ${expected} (it names ${spiffeIdsOf(certificate).join(', ') || 'no SPIFFE ID'})`),
    },
  );
}

/** The SPIFFE IDs (URI SANs starting with spiffe://) in a certificate. */
export function spiffeIdsOf(certificate: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  return (certificate?.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('URI:spiffe://'))
    .map((entry) => entry.slice('URI:'.length));
}
