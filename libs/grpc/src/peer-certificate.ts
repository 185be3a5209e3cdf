import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { ServerUnaryCall } from '@grpc/grpc-js';

/** The verified client certificate of each TLS connection, parsed once per connection. */
const byConnection = new WeakMap<TLSSocket, PeerCertificate | null>();

/**
 * The caller's client certificate, only if it verified against the server's client CA
 * (undefined otherwise) — what grpc-js's getAuthContext() answers, but parsed once per
 * connection instead of once per call: getPeerCertificate() turns the certificate into a JS
 * object every time, which measured ~10% of the decision service's CPU under load. A
 * connection's certificate cannot change, so caching it by the socket is exact. Where grpc-js's
 * internals are not what this expects, it falls back to getAuthContext().
 */
export function verifiedPeerCertificate(call: ServerUnaryCall<unknown, unknown>): PeerCertificate | undefined {
  const socket = tlsSocketOf(call);
  if (!socket) return call.getAuthContext().sslPeerCertificate;
  return verifiedCertificateOfSocket(socket);
}

/**
 * The client certificate a TLS connection presented, if it verified against the server's CA
 * (a client that sent none, or one that does not verify, counts as having sent none); read once
 * per connection. For gRPC calls and HTTPS requests alike.
 */
export function verifiedCertificateOfSocket(socket: TLSSocket): PeerCertificate | undefined {
  let certificate = byConnection.get(socket);
  if (certificate === undefined) {
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    certificate = peer?.raw ? peer : null;
    byConnection.set(socket, certificate);
  }
  return certificate ?? undefined;
}

function tlsSocketOf(call: ServerUnaryCall<unknown, unknown>): TLSSocket | undefined {
  let next = (call as unknown as { call?: Record<string, unknown> }).call;
  for (let depth = 0; next && depth < 8; depth++) {
    const stream = next['stream'] as { session?: { socket?: unknown } } | undefined;
    if (stream) {
      const socket = stream.session?.socket;
      return socket instanceof TLSSocket ? socket : undefined;
    }
    next = next['nextCall'] as Record<string, unknown> | undefined;
  }
  return undefined;
}
