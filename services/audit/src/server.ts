import { Periodic } from '@mayfly/telemetry';
import { encodeChainHead, decodeChainHead } from '@mayfly/audit-trail';
import { AuditHeadMissing, connectBus, ensureAuditHeadStream, publishAuditHead, readAuditHead, type NatsConnection } from '@mayfly/bus';
import { AUDIT_CHECKPOINT_KEY_FILE, AUDIT_CHECKPOINT_MS, AUDIT_HEAD_COALESCE_MS, EnvReader, auditHeadStreamSettings, commonSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { assertDatabaseReachable, createDatabase, assertSchemaCurrent, insertAuditCheckpoint, latestAuditCheckpoint, readAuditChainHashAt, readAuditChainHead } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { AuditServiceService } from '@mayfly/proto';
import { auditApi } from './api/audit-api.js';
import { loadCheckpointKey } from './adapters/checkpoint-key.js';
import { postgresAuditLog } from './adapters/postgres-audit-log.js';
import { CheckpointSigner } from './domain/checkpoint-signer.js';
import { Coalescer, HeadPublisher, type HeadOutcome } from './domain/head-publisher.js';

/** Wires the audit service: database, migrations, the external head on NATS, gRPC. Returns what to close, in order. */
export async function startAuditService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'audit');
  const settings = commonSettings('audit', env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-audit' });
  await assertSchemaCurrent(db);
  const key = loadCheckpointKey(env.read(AUDIT_CHECKPOINT_KEY_FILE), log);

  // The log is hash-chained by the database; this service signs the chain's head at intervals.
  const signer = new CheckpointSigner(
    {
      readHead: () => readAuditChainHead(db),
      lastCheckpointPosition: async () => (await latestAuditCheckpoint(db))?.position,
      insert: (checkpoint) => insertAuditCheckpoint(db, checkpoint),
    },
    key,
  );

  // …and publishes the head outside the database, after appends and at every interval. NATS
  // may come later: recording never waits for it (the head goes stale instead, which
  // `mayfly audit verify` reports).
  const headStream = auditHeadStreamSettings(env);
  const nats: NatsConnection = await connectBus(settings.natsUrl, 'mayfly-audit', { waitOnFirstConnect: true });
  let streamReady = false;
  const heads = new HeadPublisher(
    {
      readHead: () => readAuditChainHead(db),
      chainHashAt: (position) => readAuditChainHashAt(db, position),
      newestCheckpointPosition: async () => (await latestAuditCheckpoint(db))?.position,
      readPublished: async () => {
        // No stream yet: nothing was published. Any other failure is thrown (and retried).
        const text = await readAuditHead(nats, headStream).catch((error: unknown) => {
          if (error instanceof AuditHeadMissing) return undefined;
          throw error;
        });
        return text === undefined ? undefined : decodeChainHead(text);
      },
      publish: async (head) => {
        if (!streamReady) {
          await ensureAuditHeadStream(nats, headStream);
          streamReady = true;
        }
        await publishAuditHead(nats, headStream, encodeChainHead(head));
      },
    },
    key,
  );
  let lastOutcome: HeadOutcome | 'failed' | undefined;
  const publishHead = async (): Promise<void> => {
    const outcome = await heads.publish(new Date()).catch((error: unknown) => {
      log.warn({ err: (error as Error).message }, 'publishing the audit head failed; will retry');
      return 'failed' as const;
    });
    if (outcome !== lastOutcome) {
      if (outcome === 'refused: the log is behind a head already published') {
        log.error({ stream: headStream.stream, ...heads.lastRefusal }, 'AUDIT LOG TRUNCATED OR REWRITTEN: the database chain is behind the head this service already signed; refusing to sign over it (run mayfly audit verify)');
      } else if (outcome === 'published') {
        log.info({ stream: headStream.stream }, 'publishing the signed audit head outside the database');
      }
      lastOutcome = outcome;
    }
  };
  const afterAppend = new Coalescer(publishHead, env.read(AUDIT_HEAD_COALESCE_MS));

  // A checkpoint over the database's chain, unless that chain no longer extends the head already
  // published (truncated: nothing is signed over it); then the head, fresh even when idle.
  const checkpointAndHead = async (): Promise<void> => {
    const intact = await heads.extendsPublished().catch(() => true); // NATS away: the database's checkpoints go on
    if (intact) await signer.checkpoint(new Date()).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'signing an audit checkpoint failed; will retry'));
    await publishHead();
  };
  const checkpoints = Periodic.start({ name: 'audit.checkpoint', intervalMs: env.read(AUDIT_CHECKPOINT_MS), jitter: 0, log }, checkpointAndHead);

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.AuditService', definition: AuditServiceService, implementation: auditApi(postgresAuditLog(db), log, { appended: () => afterAppend.request() }) }],
  });
  return [
    () => server.shutdown(settings.drainSeconds * 1000),
    // A last checkpoint and head cover everything appended before the shutdown.
    async () => {
      await checkpoints.stop();
      await afterAppend.stop();
      await checkpointAndHead();
    },
    () => nats.drain().catch(() => undefined),
    () => db.destroy(),
  ];
}
