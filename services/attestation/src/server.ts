import { readFileSync } from 'node:fs';
import { EnvReader, commonSettings, tlsSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { assertDatabaseReachable, createDatabase, assertSchemaCurrent, pruneEvidenceUses } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { AttestationServiceService } from '@mayfly/proto';
import { PostgresTrustedIssuers, PostgresWorkloadRegistry } from './adapters/postgres-registry.js';
import { attestationApi } from './api/attestation-api.js';
import { buildAttestorCatalog } from './attestors/catalog.js';

export async function startAttestationService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader();
  const settings = commonSettings('attestation', env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-attestation' });
  await assertSchemaCurrent(db);

  const attestors = buildAttestorCatalog({
    trustedIssuers: new PostgresTrustedIssuers(db, env.int('MAYFLY_ISSUER_CACHE_MS', 10_000)),
    clockToleranceSeconds: env.int('MAYFLY_CLOCK_TOLERANCE_SECONDS', 5, { max: 300 }),
    jwksFetch: {
      // Issuers' JWKS come over https, trusting the system store plus this private CA bundle.
      ca: readOptionalFile(env.optionalString('MAYFLY_ISSUER_CA_FILE')),
      withSystemRoots: true,
      allowHttp: tlsSettings(env, { requireIdentity: true }).mode === 'insecure',
    },
  });
  // Evidence uses are kept only while the evidence could still be presented (plus clock skew).
  const clockToleranceMs = env.int('MAYFLY_CLOCK_TOLERANCE_SECONDS', 5, { max: 300 }) * 1000;
  const pruneTimer = setInterval(() => {
    pruneEvidenceUses(db, new Date(Date.now() - clockToleranceMs)).catch((error: unknown) => log.warn({ err: error }, 'pruning evidence uses failed'));
  }, 60_000);
  pruneTimer.unref();

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [
      {
        name: 'mayfly.v1.AttestationService',
        definition: AttestationServiceService,
        implementation: attestationApi(attestors, new PostgresWorkloadRegistry(db), log),
      },
    ],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000), () => clearInterval(pruneTimer), () => db.destroy()];
}

function readOptionalFile(file: string | undefined): Buffer | undefined {
  return file === undefined ? undefined : readFileSync(file);
}
