import { createServer, type Server } from 'node:http';
import type { JWK } from 'jose';
import type { Logger } from '@mayfly/core';

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
  keys: readonly JWK[];
  log: Logger;
}): Promise<JwksServer> {
  const jwks = JSON.stringify({ keys: options.keys });
  const discovery = JSON.stringify({
    issuer: options.issuer,
    jwks_uri: `${options.issuer}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ['EdDSA'],
  });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = path === '/.well-known/jwks.json' ? jwks : path === '/.well-known/openid-configuration' ? discovery : path === '/healthz' ? '{"status":"ok"}' : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }).end(req.method === 'HEAD' ? undefined : body);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve JWKS on ${options.host}:${options.port}: ${error.message}`)));
    server.listen(options.port, options.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  options.log.info({ port }, 'JWKS published at /.well-known/jwks.json');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
