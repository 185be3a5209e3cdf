import { EnvReader, commonSettings, componentSpiffeId, revocationStreamSettings, tlsSettings, tokenIssuerSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { connectBus } from '@mayfly/bus';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { EdgeVerifierServiceService } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { edgeVerifierApi } from './api/edge-verifier-api.js';

/**
 * The sidecar: the edge verifier library behind a Verify RPC, for resources that would rather
 * ask a neighbour than embed the library.
 */
export async function startEdgeVerifierService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader();
  const settings = commonSettings('edge-verifier', env);
  const { issuer, jwksUrl } = tokenIssuerSettings(env);
  const stream = revocationStreamSettings(env);
  const tls = tlsSettings(env, { requireIdentity: true });
  const nats = await connectBus(settings.natsUrl, 'mayfly-edge-verifier');

  const verifier = await EdgeVerifier.start({
    issuer,
    jwksUrl,
    nats,
    ...stream,
    jwksCaFile: env.optionalString('MAYFLY_JWKS_CA_FILE') ?? env.optionalString('MAYFLY_TLS_CA_FILE'),
    // The mesh CA signs every component: only issuance may serve the signing keys.
    jwksSpiffeId: env.optionalString('MAYFLY_JWKS_SPIFFE_ID') ?? (tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'issuance') : undefined),
    allowInsecureJwks: tls.mode === 'insecure',
    clockToleranceSeconds: env.int('MAYFLY_CLOCK_TOLERANCE_SECONDS', 5, { max: 300 }),
    onRevocationApplied: (event, delayMs) => log.info({ grantId: event.grantId, delayMs }, 'revocation applied'),
    onFeedError: (error) => log.warn({ err: error }, 'bad message on the revocation stream'),
  });
  await verifier.ready;
  log.info({ revoked: verifier.revocations.size }, 'caught up with the revocation stream');

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    requireClientCertificate: false,
    log,
    services: [{ name: 'mayfly.v1.EdgeVerifierService', definition: EdgeVerifierServiceService, implementation: edgeVerifierApi(verifier, log) }],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000), () => verifier.close(), () => nats.drain()];
}
