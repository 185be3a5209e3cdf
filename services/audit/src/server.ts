import { connectBus } from '@mayfly/bus';
import { AUDIT_CHECKPOINT_KEY_FILE, AUDIT_CHECKPOINT_MS, AUDIT_HEAD_COALESCE_MS, AUDIT_STATUS_CACHE_MS, EnvReader, auditHeadStreamSettings, commonSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { assertDatabaseReachable, assertSchemaCurrent, createDatabase } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { AuditServiceService, decodeRecordRequest } from '@mayfly/proto';
import { auditApi } from './api/audit-api.js';
import { keepChainHead } from './adapters/chain-head-keeper.js';
import { chainStatusReader } from './adapters/chain-status.js';
import { loadCheckpointKey } from './adapters/checkpoint-key.js';
import { postgresAuditLog } from './adapters/postgres-audit-log.js';

/** Wires the audit service: database, the signed head kept on NATS, gRPC. Returns what to close, in order. */
export async function startAuditService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'audit');
  const settings = commonSettings('audit', env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-audit' });
  await assertSchemaCurrent(db);
  const nats = await connectBus(settings.natsUrl, 'mayfly-audit', { waitOnFirstConnect: true });
  const key = loadCheckpointKey(env.read(AUDIT_CHECKPOINT_KEY_FILE), log);
  const headStream = auditHeadStreamSettings(env);
  const checkpointMs = env.read(AUDIT_CHECKPOINT_MS);
  const head = keepChainHead({ db, nats, headStream, key, coalesceMs: env.read(AUDIT_HEAD_COALESCE_MS), checkpointMs, log });
  // The head may be a checkpoint interval old, plus the same two-minute grace `mayfly audit verify` allows by default.
  const chainStatus = chainStatusReader({ db, nats, headStream, publicKey: key.publicKey, maxHeadAgeMs: checkpointMs + 120_000, cacheMs: env.read(AUDIT_STATUS_CACHE_MS), log });
  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.AuditService', definition: AUDIT_SERVICE, implementation: auditApi(postgresAuditLog(db), log, { appended: head.appended, chainStatus }) }],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000), () => head.stop(), () => nats.drain().catch(() => undefined), () => db.destroy()];
}

/**
 * The generated service, with Record's requests decoded by decodeRecordRequest: the same events,
 * without the generated Struct decoding's intermediate objects (every grant's records come here).
 */
const AUDIT_SERVICE: typeof AuditServiceService = {
  ...AuditServiceService,
  record: { ...AuditServiceService.record, requestDeserialize: (bytes: Buffer) => decodeRecordRequest(bytes) },
};
