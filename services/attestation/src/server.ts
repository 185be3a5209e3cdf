import { readFileSync } from 'node:fs';
import { CLOCK_TOLERANCE_SECONDS, EnvReader, ISSUER_CACHE_MS, ISSUER_CA_FILE, JOIN_TOKEN_SESSION_SECONDS, SVID_MAX_SECONDS, WORKLOAD_CA_FILE, WORKLOAD_CA_KEY_FILE, WORKLOAD_TRUST_DOMAINS, commonSettings, tlsSettings } from '@mayfly/config';
import { auditTrailFromEnv } from '@mayfly/audit-trail';
import { WorkloadCa } from '@mayfly/pki';
import type { Logger } from '@mayfly/core';
import { assertDatabaseReachable, createDatabase, assertSchemaCurrent, pruneEvidenceUses } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { AttestationServiceService, RegistryServiceService } from '@mayfly/proto';
import { Periodic } from '@mayfly/telemetry';
import { PostgresJoinTokens } from './adapters/postgres-join-tokens.js';
import { PostgresWorkloadRegistry } from './adapters/postgres-registry.js';
import { checkResourceByConnecting } from './adapters/resource-check.js';
import { postgresRegistryPorts } from './adapters/postgres-registry-store.js';
import { postgresSessionControls, postgresSvidStore } from './adapters/postgres-sessions.js';
import { PostgresTrustedIssuers } from './adapters/postgres-trusted-issuers.js';
import { attestationApi } from './api/attestation-api.js';
import { registryApi } from './api/registry-api.js';
import { buildAttestorCatalog } from './attestors/catalog.js';
import { workloadCaSigner } from './adapters/workload-ca-signer.js';
import { Sessions } from './domain/sessions.js';

export async function startAttestationService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'attestation');
  const settings = commonSettings('attestation', env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-attestation' });
  await assertSchemaCurrent(db);

  const audit = auditTrailFromEnv('attestation', db, log, env);
  audit.start();
  const attestors = buildAttestorCatalog({
    trustedIssuers: new PostgresTrustedIssuers(db, env.read(ISSUER_CACHE_MS)),
    joinTokens: new PostgresJoinTokens(db, audit),
    clockToleranceSeconds: env.read(CLOCK_TOLERANCE_SECONDS),
    joinTokenSessionSeconds: env.read(JOIN_TOKEN_SESSION_SECONDS),
    jwksFetch: {
      // Issuers' JWKS come over https, trusting the system store plus this private CA bundle.
      ca: readOptionalFile(env.read(ISSUER_CA_FILE)),
      withSystemRoots: true,
      allowHttp: tlsSettings(env, { requireIdentity: true }).mode === 'insecure',
    },
  });
  // Evidence uses are kept only while the evidence could still be presented (plus clock skew).
  const clockToleranceMs = env.read(CLOCK_TOLERANCE_SECONDS) * 1000;
  const prune = Periodic.start({ name: 'attestation.prune-evidence-uses', intervalMs: 60_000, log }, () => pruneEvidenceUses(db, new Date(Date.now() - clockToleranceMs)));

  const workloadCaFile = env.read(WORKLOAD_CA_FILE);
  const workloadCaKeyFile = env.read(WORKLOAD_CA_KEY_FILE);
  const workloadCa = workloadCaFile && workloadCaKeyFile ? await WorkloadCa.load(workloadCaFile, workloadCaKeyFile) : undefined;
  if (!workloadCa) log.warn('no workload CA configured (MAYFLY_WORKLOAD_CA_FILE, MAYFLY_WORKLOAD_CA_KEY_FILE): sessions are off, grants need evidence');

  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [
      {
        name: 'mayfly.v1.AttestationService',
        definition: AttestationServiceService,
        implementation: attestationApi({
          attestors,
          registry: new PostgresWorkloadRegistry(db),
          sessions: new Sessions(postgresSvidStore(db), workloadCa ? workloadCaSigner(workloadCa) : undefined, {
            svidMaxSeconds: env.read(SVID_MAX_SECONDS),
          }),
          controls: postgresSessionControls(db, audit),
          log,
        }),
      },
      {
        name: 'mayfly.v1.RegistryService',
        definition: RegistryServiceService,
        implementation: registryApi({
          registry: postgresRegistryPorts(db, audit),
          checkResource: checkResourceByConnecting,
          trustDomains: env.read(WORKLOAD_TRUST_DOMAINS),
          log,
        }),
      },
    ],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000), () => prune.stop(), () => audit.close(), () => db.destroy()];
}

function readOptionalFile(file: string | undefined): Buffer | undefined {
  return file === undefined ? undefined : readFileSync(file);
}
