import { EnvReader, commonSettings, componentSpiffeId, revocationKeysSettings, revocationStreamSettings, serviceAddress, tlsSettings, tokenIssuerSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { connectBus } from '@mayfly/bus';
import { callUnary, createClient, startGrpcServer, type Closer, type RunningGrpcServer } from '@mayfly/grpc';
import { AuditServiceClient, ConsumeRequest, EdgeVerifierServiceService, RevocationServiceClient } from '@mayfly/proto';
import { observeRevocationState } from '@mayfly/telemetry';
import { EdgeVerifier, UsageRecorder } from '@mayfly/verifier';
import { UsageReporter } from './usage-reporter.js';
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

  // What was used, for the usage review: counted per grant, resource and action, sent to audit.
  const usage = new UsageRecorder(env.int('MAYFLY_EDGE_USAGE_MAX_ENTRIES', 10_000, { min: 1 }));
  const audit = createClient(AuditServiceClient, serviceAddress('audit', env), 'audit');
  // Single-use tokens are consumed at the revocation service before they are accepted.
  const revocation = createClient(RevocationServiceClient, serviceAddress('revocation', env), 'revocation');
  const consumeTimeoutMs = env.int('MAYFLY_EDGE_CONSUME_TIMEOUT_MS', 2_000, { min: 50, max: 60_000 });
  const reporter = new UsageReporter(
    usage,
    async (events) => void (await callUnary(audit, audit.record, { events }, { target: 'audit' })),
    tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'edge-verifier') : 'edge-verifier',
    log,
  );
  const reportTimer = setInterval(() => void reporter.report(new Date()), env.int('MAYFLY_EDGE_USAGE_REPORT_MS', 10_000, { min: 100 }));

  let server: RunningGrpcServer | undefined;
  const verifier = await EdgeVerifier.start({
    usage,
    issuer,
    jwksUrl,
    nats,
    ...stream,
    jwksCaFile: env.optionalString('MAYFLY_JWKS_CA_FILE') ?? env.optionalString('MAYFLY_TLS_CA_FILE'),
    // The mesh CA signs every component: only issuance may serve the signing keys.
    jwksSpiffeId: env.optionalString('MAYFLY_JWKS_SPIFFE_ID') ?? (tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'issuance') : undefined),
    allowInsecureJwks: tls.mode === 'insecure',
    // Revocations count only when the revocation service signed them, with keys it serves itself.
    revocationKeysUrl: revocationKeysSettings(env).url,
    revocationKeysSpiffeId: env.optionalString('MAYFLY_REVOCATION_KEYS_SPIFFE_ID') ?? (tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'revocation') : undefined),
    jwksCacheMaxAgeMs: env.int('MAYFLY_JWKS_CACHE_SECONDS', 300, { min: 1, max: 86_400 }) * 1000,
    staleAfterMs: env.int('MAYFLY_EDGE_STALE_AFTER_MS', 5_000, { min: 100, max: 600_000 }),
    clockToleranceSeconds: env.int('MAYFLY_CLOCK_TOLERANCE_SECONDS', 5, { max: 300 }),
    onRevocationApplied: (event, delayMs) => log.info({ revocationId: event.id, grantId: event.grantId || undefined, spiffeId: event.spiffeId || undefined, keyId: event.keyId || undefined, delayMs }, 'revocation applied'),
    maxTokenLifetimeSeconds: env.int('MAYFLY_MAX_TTL_SECONDS', 3600, { min: 1, max: 86_400 }),
    maxRevocationEntries: env.int('MAYFLY_EDGE_MAX_REVOCATIONS', 1_000_000, { min: 1 }),
    onFeedError: (error) => log.warn({ err: error }, 'revocation feed problem'),
    consumeSingleUse: async (token) => {
      await callUnary(revocation, revocation.consume, ConsumeRequest.fromPartial(token), { timeoutMs: consumeTimeoutMs, target: 'revocation' });
    },
    onFeedStateChange: (state) => {
      // Not live: every token is refused, so the sidecar reports NOT_SERVING until it is.
      if (state === 'live') log.info('revocation feed live again');
      else log.warn({ state }, 'revocation feed not live: refusing every token');
      server?.setServing(state === 'live');
    },
  });
  observeRevocationState(verifier.revocations);
  await verifier.ready;
  log.info({ revoked: verifier.revocations.size }, 'caught up with the revocation stream');

  server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    requireClientCertificate: false,
    log,
    services: [{ name: 'mayfly.v1.EdgeVerifierService', definition: EdgeVerifierServiceService, implementation: edgeVerifierApi(verifier, log) }],
  });
  const running = server;
  return [
    () => running.shutdown(settings.drainSeconds * 1000),
    async () => {
      clearInterval(reportTimer);
      await reporter.report(new Date()); // one last report of what was used
      audit.close();
      revocation.close();
    },
    () => verifier.close(),
    () => nats.drain(),
  ];
}
