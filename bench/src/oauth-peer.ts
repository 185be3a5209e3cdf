import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/**
 * The peer the benchmark compares Mayfly with, in the same process and the same run: an
 * OAuth 2.0 authorization server (oidc-provider) issuing JWT access tokens (EdDSA, RFC 9068
 * shape, audience from RFC 8707 resource indicators) by the client-credentials grant. It does
 * far less per token than a Mayfly grant: one shared secret checked, no attestation, no policy,
 * no durable grant row, no audit record.
 */
export async function startOAuthPeer(): Promise<{ tokenUrl: string; authorization: string; close: () => Promise<void> }> {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'peer-1', alg: 'EdDSA', use: 'sig' };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const resource = 'urn:mayfly:bench:orders-db';
  const provider = new Provider(origin, {
    clients: [{ client_id: 'bench', client_secret: 'bench-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], id_token_signed_response_alg: 'EdDSA' }],
    jwks: { keys: [jwk] },
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'read', audience: resource, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } }),
      },
      devInteractions: { enabled: false },
    },
    enabledJWA: { idTokenSigningAlgValues: ['EdDSA'] },
    ttl: { ClientCredentials: 300 },
  });
  server.on('request', provider.callback());
  return {
    tokenUrl: `${origin}/token`,
    authorization: `Basic ${Buffer.from('bench:bench-secret').toString('base64')}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One client-credentials token request; resolves with the access token. */
export async function requestPeerToken(peer: { tokenUrl: string; authorization: string }): Promise<string> {
  const response = await fetch(peer.tokenUrl, {
    method: 'POST',
    headers: { authorization: peer.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=read&resource=urn%3Amayfly%3Abench%3Aorders-db',
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) throw new Error(`peer refused: ${body.error ?? response.status} ${body.error_description ?? ''}`);
  return body.access_token;
}
