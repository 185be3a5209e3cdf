import { CLOCK_TOLERANCE_SECONDS, EDGE_CONSUME_TIMEOUT_MS, EDGE_MAX_REVOCATIONS, EDGE_STALE_AFTER_MS, EDGE_USAGE_MAX_ENTRIES, EDGE_USAGE_REPORT_MS, EnvReader, JWKS_CACHE_SECONDS, JWKS_CA_FILE, JWKS_SPIFFE_ID, MAX_TTL_SECONDS, REVOCATION_KEYS_SPIFFE_ID, TLS_CA_FILE, commonSettings, componentSpiffeId, revocationKeysSettings, revocationStreamSettings, serviceAddress, tlsSettings, tokenIssuerSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { connectBus } from '@mayfly/bus';
import { callUnary, createClient, startGrpcServer, type Closer, type RunningGrpcServer } from '@mayfly/grpc';
import { AuditServiceClient, ConsumeRequest, EdgeVerifierServiceService, RevocationServiceClient } from '@mayfly/proto';
import { Periodic, observeRevocationState } from '@mayfly/telemetry';
import { EdgeVerifier, UsageRecorder } from '@mayfly/verifier';
import { UsageReporter } from './usage-reporter.js';
import { edgeVerifierApi } from './api/edge-verifier-api.js';

/**
 * The sidecar: the edge verifier library behind a Verify RPC, for resources that would rather
 * ask a neighbour than embed the library.
 */
export async function startEdgeVerifierService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'edge-verifier');
  const settings = commonSettings('edge-verifier', env);
  const { issuer, jwksUrl } = tokenIssuerSettings(env);
  const stream = revocationStreamSettings(env);
  const tls = tlsSettings(env, { requireIdentity: true });
  const nats = await connectBus(settings.natsUrl, 'mayfly-edge-verifier');

  // What was used, for the usage review: counted per grant, resource and action, sent to audit.
  const usage = new UsageRecorder(env.read(EDGE_USAGE_MAX_ENTRIES));
  const audit = createClient(AuditServiceClient, serviceAddress('audit', env), 'audit');
  // Single-use tokens are consumed at the revocation service before they are accepted.
  const revocation = createClient(RevocationServiceClient, serviceAddress('revocation', env), 'revocation');
  const consumeTimeoutMs = env.read(EDGE_CONSUME_TIMEOUT_MS);
  const reporter = new UsageReporter(
    usage,
    async (events) => void (await callUnary(audit, audit.record, { events }, { target: 'audit' })),
    tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'edge-verifier') : 'edge-verifier',
    log,
  );
  const reporting = Periodic.start({ name: 'edge.usage-report', intervalMs: env.read(EDGE_USAGE_REPORT_MS), log }, () => reporter.report(new Date()));

  let server: RunningGrpcServer | undefined;
  const verifier = await EdgeVerifier.start({
    usage,
    issuer,
    jwksUrl,
    nats,
    ...stream,
    jwksCaFile: env.read(JWKS_CA_FILE) ?? env.read(TLS_CA_FILE),
    // The mesh CA signs every component: only issuance may serve the signing keys.
    jwksSpiffeId: env.read(JWKS_SPIFFE_ID) ?? (tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'issuance') : undefined),
    allowInsecureJwks: tls.mode === 'insecure',
    // Revocations count only when the revocation service signed them, with keys it serves itself.
    revocationKeysUrl: revocationKeysSettings(env).url,
    revocationKeysSpiffeId: env.read(REVOCATION_KEYS_SPIFFE_ID) ?? (tls.mode === 'tls' ? componentSpiffeId(tls.trustDomain, 'revocation') : undefined),
    jwksCacheMaxAgeMs: env.read(JWKS_CACHE_SECONDS) * 1000,
    staleAfterMs: env.read(EDGE_STALE_AFTER_MS),
    clockToleranceSeconds: env.read(CLOCK_TOLERANCE_SECONDS),
    onRevocationApplied: (event, delayMs) => log.info({ revocationId: event.id, grantId: event.grantId || undefined, spiffeId: event.spiffeId || undefined, keyId: event.keyId || undefined, delayMs }, 'revocation applied'),
    maxTokenLifetimeSeconds: env.read(MAX_TTL_SECONDS),
    maxRevocationEntries: env.read(EDGE_MAX_REVOCATIONS),
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
      await reporting.stop();
      await reporter.report(new Date()); // one last report of what was used
      audit.close();
      revocation.close();
    },
    () => verifier.close(),
    () => nats.drain(),
  ];
}
