import { EnvReader, REVOCATION_KEYS_PATH, commonSettings, revocationKeysSettings, revocationStreamSettings } from '@mayfly/config';
import { MayflyError, type Logger } from '@mayfly/core';
import { auditTrailFromEnv } from '@mayfly/audit-trail';
import { RevocationPublisher, connectBus, ensureRevocationStream, feedSigner, readStreamSnapshot } from '@mayfly/bus';
import { loadEd25519KeyFile } from '@mayfly/keyring';
import { assertDatabaseReachable, createDatabase, listUnpublishedRevocations, liveRevocationSequences, assertSchemaCurrent } from '@mayfly/db';
import { certificateFiles, startGrpcServer, startKeySetServer, transportSettings, type Closer } from '@mayfly/grpc';
import { RevocationServiceService } from '@mayfly/proto';
import { revocationApi } from './api/revocation-api.js';
import { expireDueGrantsOnce } from './domain/expiry-sweeper.js';
import { HeartbeatSender, type HeartbeatOutcome } from './domain/heartbeat.js';
import { revokeMissedHeartbeats } from './domain/liveness-sweeper.js';
import { Revoker } from './domain/revoker.js';
import { StreamGuard } from './domain/stream-guard.js';

export async function startRevocationService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader();
  const settings = commonSettings('revocation', env);
  const stream = revocationStreamSettings(env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-revocation' });
  await assertSchemaCurrent(db);

  const nats = await connectBus(settings.natsUrl, 'mayfly-revocation');
  const streamConfig = { ...stream, retentionSeconds: env.int('MAYFLY_REVOCATION_RETENTION_SECONDS', 86_400, { min: 60 }) };
  await ensureRevocationStream(nats, streamConfig);

  const audit = auditTrailFromEnv('revocation', db, log, env);
  // Every event, marker and heartbeat is signed: edges act on nothing else (NATS is transport).
  const signer = feedSigner(
    loadEd25519KeyFile(env.optionalString('MAYFLY_REVOCATION_FEED_KEY_FILE'), 'MAYFLY_REVOCATION_FEED_KEY_FILE', () =>
      log.warn('no MAYFLY_REVOCATION_FEED_KEY_FILE: signing the revocation feed with a key that lives only as long as this process (one replica only; edges re-fetch the key)'),
    ),
  );
  const keys = await startKeySetServer({
    name: 'revocation feed keys',
    host: settings.host,
    port: revocationKeysSettings(env).httpPort,
    log,
    documents: { [REVOCATION_KEYS_PATH]: () => JSON.stringify({ keys: [signer.publicJwk] }) },
    tls: (() => {
      const transport = transportSettings(true);
      return transport.mode === 'tls' ? certificateFiles({ certFile: transport.certFile, keyFile: transport.keyFile }) : undefined;
    })(),
  });
  const publisher = new RevocationPublisher(nats, stream.subjectPrefix, signer);
  const revoker = new Revoker(db, publisher, audit, log, streamConfig.retentionSeconds * 1000, crashPointFromEnv(env, log));
  const guard = new StreamGuard(
    {
      readStream: () => readStreamSnapshot(nats, stream.stream),
      createStream: () => ensureRevocationStream(nats, streamConfig),
      liveSequences: () => liveRevocationSequences(db, new Date()),
      republishLive: () => revoker.republishLive(),
      publishMarker: (checked) => publisher.publishResyncMarker(checked),
    },
    log,
  );

  // Background work: publish what NATS missed, deliver what audit missed, expire what is due.
  audit.start();
  const retryTimer = setInterval(() => {
    revoker.publishPending().catch((error: unknown) => log.warn({ err: error }, 'publishing pending revocations failed'));
  }, env.int('MAYFLY_REVOCATION_RETRY_MS', 1_000, { min: 50 }));
  // The stream must hold every live revocation: check it, and repair it from PostgreSQL.
  const guardTimer = setInterval(() => {
    guard.check().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'revocation stream check failed; will retry'));
  }, env.int('MAYFLY_REVOCATION_STREAM_CHECK_MS', 2_000, { min: 100 }));
  const expiryTimer = setInterval(() => {
    expireDueGrantsOnce(db, audit, log).catch((error: unknown) => log.warn({ err: error }, 'expiry sweep failed'));
  }, env.int('MAYFLY_EXPIRY_SWEEP_MS', 5_000, { min: 100 }));
  // Grants that require liveness and stopped sending heartbeats are revoked (issue 12).
  const livenessTimer = setInterval(() => {
    revokeMissedHeartbeats(db, revoker, log).catch((error: unknown) => log.warn({ err: error }, 'liveness sweep failed'));
  }, env.int('MAYFLY_HEARTBEAT_SWEEP_MS', 1_000, { min: 100 }));
  // Heartbeats let edges tell they are current; without them they fail closed (issue 9).
  const heartbeat = new HeartbeatSender(
    {
      readStream: () => readStreamSnapshot(nats, stream.stream),
      oldestUnpublishedAt: async () => (await listUnpublishedRevocations(db, 1))[0]?.revoked_at,
      publish: (beat, sentAt) => publisher.publishHeartbeat(beat, sentAt),
    },
    env.int('MAYFLY_REVOCATION_PUBLISH_GRACE_MS', 1_000, { min: 0 }),
  );
  let lastOutcome: HeartbeatOutcome | 'failed' = 'sent';
  const heartbeatTimer = setInterval(() => {
    heartbeat
      .beat(new Date())
      .catch(() => 'failed' as const)
      .then((outcome) => {
        // Said once per change, not every second.
        if (outcome !== lastOutcome) (outcome === 'sent' ? log.info.bind(log) : log.warn.bind(log))({ outcome }, 'revocation heartbeat');
        lastOutcome = outcome;
      });
  }, env.int('MAYFLY_REVOCATION_HEARTBEAT_MS', 1_000, { min: 50 }));
  await revoker.publishPending();
  await guard.check().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'revocation stream check failed; will retry'));

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.RevocationService', definition: RevocationServiceService, implementation: revocationApi(revoker, log) }],
  });
  return [
    () => server.shutdown(settings.drainSeconds * 1000),
    () => {
      clearInterval(retryTimer);
      clearInterval(guardTimer);
      clearInterval(expiryTimer);
      clearInterval(livenessTimer);
      clearInterval(heartbeatTimer);
    },
    () => audit.close(),
    () => keys.close(),
    () => nats.drain(),
    () => db.destroy(),
  ];
}

/**
 * MAYFLY_FAULT_INJECTION=crash-after-revocation-commit kills the process (SIGKILL) right after a
 * revocation commits, before it is published: for tests that show nothing is lost. Never set in
 * production; the service says so loudly when it is.
 */
function crashPointFromEnv(env: EnvReader, log: Logger): (() => void) | undefined {
  const fault = env.optionalString('MAYFLY_FAULT_INJECTION');
  if (fault === undefined) return undefined;
  if (fault !== 'crash-after-revocation-commit') throw new MayflyError('ERR_CONFIG', `MAYFLY_FAULT_INJECTION=${fault} is not a known fault (crash-after-revocation-commit)`);
  log.warn({ fault }, 'FAULT INJECTION ON: this process kills itself after each revocation commit (tests only)');
  return () => process.kill(process.pid, 'SIGKILL');
}
