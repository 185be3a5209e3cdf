import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { JWK } from 'jose';
import type { Logger } from '@mayfly/core';
import type { CertificateFiles } from '@mayfly/grpc';

export interface JwksServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Publishes the issuer's public keys: /.well-known/jwks.json and a minimal
 * /.well-known/openid-configuration that points at it. Nothing else is served here.
 */
export async function startJwksServer(options: {
  host: string;
  port: number;
  issuer: string;
  /** The keys to publish now (asked per request: the keyring rotates under a running server). */
  keys: () => readonly JWK[];
  log: Logger;
  /** Serve HTTPS with this certificate and key (issuance's own, reloaded when rotated); plain HTTP without. */
  tls?: CertificateFiles | undefined;
}): Promise<JwksServer> {
  const jwks = (): string => JSON.stringify({ keys: options.keys() });
  const discovery = JSON.stringify({
    issuer: options.issuer,
    jwks_uri: `${options.issuer}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ['EdDSA'],
  });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = path === '/.well-known/jwks.json' ? jwks() : path === '/.well-known/openid-configuration' ? discovery : path === '/healthz' ? '{"status":"ok"}' : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' }).end(req.method === 'HEAD' ? undefined : body);
  };
  const tls = options.tls;
  const server: Server = tls ? createHttpsServer({ cert: tls.current().cert, key: tls.current().key }, handle) : createHttpServer(handle);
  // New connections get the rotated certificate; open ones keep theirs.
  tls?.onChange(({ cert, key }) => (server as ReturnType<typeof createHttpsServer>).setSecureContext({ cert, key }));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve JWKS on ${options.host}:${options.port}: ${error.message}`)));
    server.listen(options.port, options.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  options.log.info({ port, scheme: options.tls ? 'https' : 'http' }, 'JWKS published at /.well-known/jwks.json');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
