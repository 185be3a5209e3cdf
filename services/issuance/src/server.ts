import { EnvReader } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { countApprovalState } from '@mayfly/db';
import { certificateFiles, startGrpcServer, transportSettings, type Closer } from '@mayfly/grpc';
import { ApprovalServiceService, IssuanceServiceService } from '@mayfly/proto';
import { observeApprovalState, withSpan } from '@mayfly/telemetry';
import { connectInfrastructure, startInfrastructure } from './adapters/infrastructure.js';
import { peoplePorts } from './adapters/people-ports.js';
import { postgresGrantReads } from './adapters/postgres-grant-reads.js';
import { openSigningKeys } from './adapters/signing-keys.js';
import { startLoginReaping } from './adapters/login-reaper.js';
import { workloadPorts } from './adapters/workload-ports.js';
import { approvalApi } from './api/approval-api.js';
import { issuanceApi } from './api/issuance-api.js';
import { tokenExchangeApi } from './api/token-exchange-api.js';
import type { CredentialFormat } from './credentials/credential-format.js';
import { JwtAccessTokenFormat } from './credentials/jwt-access-token.js';
import { startIssuerEndpoints } from './http/issuer-endpoints.js';
import { issuanceSettings } from './settings.js';

/** Wiring only: settings → infrastructure → ports → the two gRPC services and the issuer's HTTPS endpoints. */
export async function startIssuanceService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'issuance');
  const settings = issuanceSettings(env, log);
  const infra = await connectInfrastructure(settings, env, log);
  const signing = await openSigningKeys(infra.db, settings, log);
  const credentials = new JwtAccessTokenFormat(settings.issuer, signing.keys);
  const workloads = workloadPorts(infra, tracedCredentials(credentials), settings);
  const people = peoplePorts(infra);

  const stopInfrastructure = startInfrastructure(infra);
  const reaping = startLoginReaping({ db: infra.db, databaseUrl: settings.common.databaseUrl, catalog: infra.credentials, audit: infra.audit, commitEvents: (events) => infra.store.commitEvents(events), reconcileMs: settings.logins.reconcileMs, revocations: { natsUrl: settings.common.natsUrl, ...settings.revocationStream }, log });
  observeApprovalState(() => countApprovalState(infra.db));
  const transport = transportSettings(true);
  const tls = transport.mode === 'tls';
  const jwks = await startIssuerEndpoints({
    host: settings.common.host,
    port: settings.httpPort,
    issuer: settings.issuer,
    keys: () => signing.keys.published(),
    tokenEndpoint: tokenExchangeApi(workloads.flow, log),
    log,
    tls: tls ? certificateFiles({ certFile: transport.certFile, keyFile: transport.keyFile }) : undefined,
    workloadCa: tls && settings.workloadCaFile ? certificateFiles({ caFile: settings.workloadCaFile }) : undefined,
  });
  const server = await startGrpcServer({
    host: settings.common.host,
    port: settings.common.port,
    healthPort: settings.common.healthPort,
    requireClientCertificate: false,
    // Workloads in a session present their X.509-SVID, verified against the workload CA.
    optionalClientCaFile: settings.workloadCaFile,
    log,
    services: [
      {
        name: 'mayfly.v1.IssuanceService',
        definition: IssuanceServiceService,
        implementation: issuanceApi({ ...workloads, credentials, peerThrottle: infra.peerThrottle, watching: people.watching, log }),
      },
      {
        name: 'mayfly.v1.ApprovalService',
        definition: ApprovalServiceService,
        implementation: approvalApi({
          reads: postgresGrantReads(infra.db),
          credentials,
          answers: people.answers,
          reviews: people.reviews,
          revocations: people.revocations,
          shrinks: people.shrinks,
          options: { maxGrantSeconds: settings.ttl.maxGrantSeconds },
          scope: { readerGroups: [...settings.readerGroups] },
          log,
        }),
      },
    ],
  });
  return [() => server.shutdown(settings.common.drainSeconds * 1000), () => jwks.close(), signing.close, reaping.close, ...stopInfrastructure];
}

/** The credential format with a "sign" span around minting. */
function tracedCredentials(format: CredentialFormat): CredentialFormat {
  return {
    name: format.name,
    mint: (claims) => withSpan('sign', { 'mayfly.credential.format': format.name, 'mayfly.grant_id': claims.grantId }, () => format.mint(claims)),
    inspect: (credential) => format.inspect(credential),
    reissuable: (credential) => format.reissuable(credential),
    reissue: (saved) => format.reissue(saved),
  };
}
