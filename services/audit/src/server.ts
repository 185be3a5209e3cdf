import { EnvReader, commonSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { assertDatabaseReachable, createDatabase, assertSchemaCurrent, insertAuditCheckpoint, latestAuditCheckpoint, readAuditChainHead } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { AuditServiceService } from '@mayfly/proto';
import { auditApi } from './api/audit-api.js';
import { CheckpointSigner, loadCheckpointKey } from './domain/checkpoint-signer.js';

/** Wires the audit service: database, migrations, gRPC. Returns what to close, in order. */
export async function startAuditService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader();
  const settings = commonSettings('audit', env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-audit' });
  await assertSchemaCurrent(db);

  // The log is hash-chained by the database; this service signs the chain's head at intervals.
  const signer = new CheckpointSigner(
    {
      readHead: () => readAuditChainHead(db),
      lastCheckpointPosition: async () => (await latestAuditCheckpoint(db))?.position,
      insert: (checkpoint) => insertAuditCheckpoint(db, checkpoint),
    },
    loadCheckpointKey(env.optionalString('MAYFLY_AUDIT_CHECKPOINT_KEY_FILE'), log),
  );
  const checkpointTimer = setInterval(() => {
    signer.checkpoint(new Date()).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'signing an audit checkpoint failed; will retry'));
  }, env.int('MAYFLY_AUDIT_CHECKPOINT_MS', 60_000, { min: 100 }));

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.AuditService', definition: AuditServiceService, implementation: auditApi(db, log) }],
  });
  return [
    () => server.shutdown(settings.drainSeconds * 1000),
    // A last checkpoint covers everything appended before the shutdown.
    async () => {
      clearInterval(checkpointTimer);
      await signer.checkpoint(new Date()).catch(() => undefined);
    },
    () => db.destroy(),
  ];
}
