import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';

/**
 * The single place that decides how Mayfly's gRPC hops are secured. Every server and every
 * client gets its credentials here, so that mutual TLS (one certificate per service, SAN = the
 * service's SPIFFE ID) can replace plaintext without touching any service.
 *
 * Today every hop is plaintext on loopback: the walking skeleton runs all services on one host.
 */
export function serverCredentials(): ServerCredentials {
  return ServerCredentials.createInsecure();
}

export function channelCredentials(): ChannelCredentials {
  return ChannelCredentials.createInsecure();
}
