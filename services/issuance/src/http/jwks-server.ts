import type { JWK } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS, type Logger } from '@mayfly/core';
import { startKeySetServer, type CertificateFiles, type KeySetServer } from '@mayfly/grpc';

/**
 * Publishes the issuer's public keys: /.well-known/jwks.json and a minimal
 * /.well-known/openid-configuration that points at it. Nothing else is served here.
 */
export function startJwksServer(options: {
  host: string;
  port: number;
  issuer: string;
  /** The keys to publish now (asked per request: the keyring rotates under a running server). */
  keys: () => readonly JWK[];
  log: Logger;
  /** Serve HTTPS with this certificate and key (issuance's own, reloaded when rotated); plain HTTP without. */
  tls?: CertificateFiles | undefined;
}): Promise<KeySetServer> {
  const discovery = JSON.stringify({
    issuer: options.issuer,
    jwks_uri: `${options.issuer}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: [...ACCESS_TOKEN_ALGORITHMS],
  });
  return startKeySetServer({
    name: 'JWKS',
    host: options.host,
    port: options.port,
    log: options.log,
    tls: options.tls,
    documents: {
      '/.well-known/jwks.json': () => JSON.stringify({ keys: options.keys() }),
      '/.well-known/openid-configuration': () => discovery,
    },
  });
}
