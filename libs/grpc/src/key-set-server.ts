import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from '@mayfly/core';
import type { CertificateFiles } from './certificate-files.js';
import { inUse } from './server.js';

export interface KeySetServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves a few public JSON documents — a service's public keys and what points at them — over
 * HTTPS with the service's own certificate (reloaded when rotated), so that a client that pins
 * the service's SPIFFE ID knows whose keys it got: issuance's JWKS, the revocation service's feed
 * keys. GET and HEAD only; /healthz answers too; nothing else is served.
 */
export async function startKeySetServer(options: {
  /** What is served, for the log: "JWKS", "revocation feed keys". */
  name: string;
  host: string;
  port: number;
  /** Path → the document's JSON, asked per request (keys rotate under a running server). */
  documents: Readonly<Record<string, () => string>>;
  log: Logger;
  /** Serve HTTPS with this certificate and key; plain HTTP without (development only). */
  tls?: CertificateFiles | undefined;
}): Promise<KeySetServer> {
  const documents: Record<string, () => string> = { '/healthz': () => '{"status":"ok"}', ...options.documents };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const document = Object.hasOwn(documents, path) ? documents[path]!() : undefined;
    if (document === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' }).end(req.method === 'HEAD' ? undefined : document);
  };
  const tls = options.tls;
  const server: Server = tls ? createHttpsServer({ cert: tls.current().cert, key: tls.current().key }, handle) : createHttpServer(handle);
  // New connections get the rotated certificate; open ones keep theirs.
  tls?.onChange(({ cert, key }) => (server as ReturnType<typeof createHttpsServer>).setSecureContext({ cert, key }));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve ${options.name} on ${options.host}:${options.port}: ${error.message}${inUse(error, options.port)}`)));
    server.listen(options.port, options.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  options.log.info({ port, scheme: tls ? 'https' : 'http', paths: Object.keys(options.documents) }, `${options.name} published`);
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
