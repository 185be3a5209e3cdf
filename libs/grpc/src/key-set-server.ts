import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { Logger } from '@mayfly/core';
import type { CertificateFiles } from './certificate-files.js';
import { verifiedCertificateOfSocket } from './peer-certificate.js';
import { inUse } from './server.js';

export interface KeySetServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Answers a POST to one path (issuance's token endpoint); it owns the response. */
export type PostHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves a few public JSON documents — a service's public keys and what points at them — over
 * HTTPS with the service's own certificate (reloaded when rotated), so that a client that pins
 * the service's SPIFFE ID knows whose keys it got: issuance's JWKS, the revocation service's feed
 * keys. GET and HEAD for documents (and /healthz); POST only to the paths given handlers.
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
  /** Path → the handler for POSTs to it. */
  post?: Readonly<Record<string, PostHandler>> | undefined;
  /**
   * Ask clients for a certificate and verify it against this CA (issuance: the workload CA). A
   * client without one, or with one that does not verify, still gets in; a handler reads
   * `verifiedClientCertificate(req)`.
   */
  optionalClientCa?: CertificateFiles | undefined;
}): Promise<KeySetServer> {
  const documents: Record<string, () => string> = { '/healthz': () => '{"status":"ok"}', ...options.documents };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const post = options.post && Object.hasOwn(options.post, path) ? options.post[path] : undefined;
    if (post) {
      if (req.method === 'POST') post(req, res);
      else res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' }).end('{"error":"invalid_request","error_description":"use POST"}');
      return;
    }
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
  const clientCa = options.optionalClientCa;
  const secureContext = () => ({
    cert: tls?.current().cert,
    key: tls?.current().key,
    ...(clientCa ? { ca: clientCa.current().ca, requestCert: true, rejectUnauthorized: false } : {}),
  });
  const server: Server = tls ? createHttpsServer(secureContext(), handle) : createHttpServer(handle);
  // New connections get the rotated certificate (or client CA); open ones keep theirs.
  const renew = () => (server as ReturnType<typeof createHttpsServer>).setSecureContext(secureContext());
  tls?.onChange(renew);
  if (tls) clientCa?.onChange(renew);
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

/**
 * The client certificate of an HTTPS request, verified against the optional client CA, or
 * undefined (none sent, or one that does not verify).
 */
export function verifiedClientCertificate(req: IncomingMessage): PeerCertificate | undefined {
  return req.socket instanceof TLSSocket ? verifiedCertificateOfSocket(req.socket) : undefined;
}
