import type { JWK } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS, type Logger } from '@mayfly/core';
import { startKeySetServer, type CertificateFiles, type KeySetServer, type PostHandler } from '@mayfly/grpc';
import { SUBJECT_TOKEN_TYPES, TOKEN_EXCHANGE_GRANT_TYPE } from './token-exchange-request.js';

export const TOKEN_ENDPOINT_PATH = '/oauth2/token';

/**
 * Issuance's HTTPS listener, under the issuer URL: /.well-known/jwks.json (the public keys edges
 * verify with), /.well-known/openid-configuration (what points at them and at the token
 * endpoint), and POST /oauth2/token (RFC 8693 token exchange, the HTTP door into the grant flow).
 */
export function startIssuerEndpoints(options: {
  host: string;
  port: number;
  issuer: string;
  /** The keys to publish now (asked per request: the keyring rotates under a running server). */
  keys: () => readonly JWK[];
  /** Answers token-exchange requests. */
  tokenEndpoint: PostHandler;
  log: Logger;
  /** Serve HTTPS with this certificate and key (issuance's own, reloaded when rotated); plain HTTP without. */
  tls?: CertificateFiles | undefined;
  /** The workload CA: a workload in a session presents its X.509-SVID to the token endpoint. */
  workloadCa?: CertificateFiles | undefined;
}): Promise<KeySetServer> {
  const discovery = JSON.stringify({
    issuer: options.issuer,
    jwks_uri: `${options.issuer}/.well-known/jwks.json`,
    token_endpoint: `${options.issuer}${TOKEN_ENDPOINT_PATH}`,
    grant_types_supported: [TOKEN_EXCHANGE_GRANT_TYPE],
    // The subject token (or the session certificate) is the caller's identity; there are no clients to register.
    token_endpoint_auth_methods_supported: ['none'],
    // RFC 8705: a token issued over mutual TLS with a session certificate is bound to it.
    tls_client_certificate_bound_access_tokens: true,
    mayfly_subject_token_types_supported: Object.keys(SUBJECT_TOKEN_TYPES),
    id_token_signing_alg_values_supported: [...ACCESS_TOKEN_ALGORITHMS],
  });
  return startKeySetServer({
    name: 'issuer endpoints (JWKS, token exchange)',
    host: options.host,
    port: options.port,
    log: options.log,
    tls: options.tls,
    optionalClientCa: options.workloadCa,
    documents: {
      '/.well-known/jwks.json': () => JSON.stringify({ keys: options.keys() }),
      '/.well-known/openid-configuration': () => discovery,
    },
    post: { [TOKEN_ENDPOINT_PATH]: options.tokenEndpoint },
  });
}
