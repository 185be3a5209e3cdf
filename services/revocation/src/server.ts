import { EXPIRY_SWEEP_MS, EnvReader, HEARTBEAT_SWEEP_MS, REVOCATION_HEARTBEAT_MS, REVOCATION_PUBLISH_GRACE_MS, REVOCATION_RETENTION_SECONDS, REVOCATION_RETRY_MS, REVOCATION_STREAM_CHECK_MS, commonSettings, revocationStreamSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { auditTrailFromEnv } from '@mayfly/audit-trail';
import { RevocationPublisher, connectBus, ensureRevocationStream, readStreamSnapshot } from '@mayfly/bus';
import { assertDatabaseReachable, assertSchemaCurrent, createDatabase, liveRevocationSequences } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { RevocationServiceService } from '@mayfly/proto';
import { Periodic } from '@mayfly/telemetry';
import { crashPointFromEnv } from './adapters/fault-injection.js';
import { postgresRevocationPorts } from './adapters/postgres-revocations.js';
import { startSignedFeed } from './adapters/signed-feed.js';
import { revocationApi } from './api/revocation-api.js';
import { expireDueGrantsOnce } from './domain/expiry-sweeper.js';
import { HeartbeatSender, type HeartbeatOutcome } from './domain/heartbeat.js';
import { revokeMissedHeartbeats } from './domain/liveness-sweeper.js';
import { Revoker } from './domain/revoker.js';
import { StreamGuard } from './domain/stream-guard.js';

/** Wiring only: settings, adapters, the domain objects they serve, the background loops, the gRPC server. */
export async function startRevocationService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'revocation');
  const settings = commonSettings('revocation', env);
  const stream = revocationStreamSettings(env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-revocation' });
  await assertSchemaCurrent(db);
  const nats = await connectBus(settings.natsUrl, 'mayfly-revocation');
  const streamConfig = { ...stream, retentionSeconds: env.read(REVOCATION_RETENTION_SECONDS) };
  await ensureRevocationStream(nats, streamConfig);

  const audit = auditTrailFromEnv('revocation', db, log, env);
  const ports = postgresRevocationPorts(db, audit);
  const feed = await startSignedFeed(env, settings.host, log);
  const publisher = new RevocationPublisher(nats, stream.subjectPrefix, feed.signer);
  const revoker = new Revoker(ports, publisher, log, streamConfig.retentionSeconds * 1000, crashPointFromEnv(env, log));
  const readStream = () => readStreamSnapshot(nats, stream.stream);
  const guard = new StreamGuard(
    {
      readStream,
      createStream: () => ensureRevocationStream(nats, streamConfig),
      liveSequences: () => liveRevocationSequences(db, new Date()),
      republishLive: () => revoker.republishLive(),
      publishMarker: (checked) => publisher.publishResyncMarker(checked),
    },
    log,
  );
  // Heartbeats let edges tell they are current; without them they fail closed.
  const heartbeat = new HeartbeatSender(
    { readStream, oldestUnpublishedAt: async () => (await ports.unpublishedRevocations(1))[0]?.revoked_at, publish: (beat, sentAt) => publisher.publishHeartbeat(beat, sentAt) },
    env.read(REVOCATION_PUBLISH_GRACE_MS),
  );

  audit.start();
  await revoker.publishPending();
  await guard.check().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'revocation stream check failed; will retry'));
  const onHeartbeat = logHeartbeatChange(log);
  const loops = [
    // Publish what NATS missed; keep the stream holding every live revocation (repair it from PostgreSQL).
    Periodic.start({ name: 'revocation.publish-pending', intervalMs: env.read(REVOCATION_RETRY_MS), log }, () => revoker.publishPending()),
    Periodic.start({ name: 'revocation.stream-guard', intervalMs: env.read(REVOCATION_STREAM_CHECK_MS), log }, () => guard.check()),
    // Expire what is due; revoke grants whose task stopped sending heartbeats.
    Periodic.start({ name: 'revocation.expiry-sweep', intervalMs: env.read(EXPIRY_SWEEP_MS), log }, () => expireDueGrantsOnce(ports, log)),
    Periodic.start({ name: 'revocation.liveness-sweep', intervalMs: env.read(HEARTBEAT_SWEEP_MS), log }, () => revokeMissedHeartbeats(ports, revoker, log)),
    Periodic.start({ name: 'revocation.heartbeat', intervalMs: env.read(REVOCATION_HEARTBEAT_MS), jitter: 0, log }, () => heartbeat.beat(new Date()).then(onHeartbeat)),
  ];

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.RevocationService', definition: RevocationServiceService, implementation: revocationApi(revoker, log) }],
  });
  return [
    () => server.shutdown(settings.drainSeconds * 1000),
    async () => void (await Promise.all(loops.map((loop) => loop.stop()))),
    () => audit.close(),
    () => feed.keys.close(),
    () => nats.drain(),
    () => db.destroy(),
  ];
}

/** Says the heartbeat's outcome once per change, not every second. */
function logHeartbeatChange(log: Logger): (outcome: HeartbeatOutcome) => void {
  let last: HeartbeatOutcome = 'sent';
  return (outcome) => {
    if (outcome !== last) (outcome === 'sent' ? log.info.bind(log) : log.warn.bind(log))({ outcome }, 'revocation heartbeat');
    last = outcome;
  };
}
