import { commonSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { assertDatabaseReachable, createDatabase, assertSchemaCurrent } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { AuditServiceService } from '@mayfly/proto';
import { auditApi } from './api/audit-api.js';

/** Wires the audit service: database, migrations, gRPC. Returns what to close, in order. */
export async function startAuditService(log: Logger): Promise<Closer[]> {
  const settings = commonSettings('audit');
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-audit' });
  await assertSchemaCurrent(db);

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.AuditService', definition: AuditServiceService, implementation: auditApi(db, log) }],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000), () => db.destroy()];
}
