import { auditTrailFromEnv, type AuditTrail } from '@mayfly/audit-trail';
import { serviceAddress, type EnvReader } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { GrantStateListener, assertDatabaseReachable, assertSchemaCurrent, createDatabase, type Database, type Kysely } from '@mayfly/db';
import { connectEagerly, createClient } from '@mayfly/grpc';
import { AttestationServiceClient, type AuditEvent, DecisionServiceClient, RegistryServiceClient, RevocationServiceClient } from '@mayfly/proto';
import { withSpan } from '@mayfly/telemetry';
import { PeerThrottle } from '../domain/peer-throttle.js';
import type { IssuanceSettings } from '../settings.js';
import { HumanIdentityProvider } from './human-identity.js';
import { NatsAnnouncer } from './nats-announcer.js';
import { Notifications } from './notifications.js';
import { WebhookAnnouncer } from './webhook-announcer.js';
import { PostgresGrantStore } from './postgres-grant-store.js';
import { PostgresSessionRegistry } from './postgres-session-registry.js';
import { WorkloadCertificates } from './workload-certificates.js';
import { CredentialCatalog } from './credential-catalog.js';

/** What issuance's ports are made of: its database, its peers, its bus, its people's issuer. */
export interface IssuanceInfrastructure {
  readonly db: Kysely<Database>;
  readonly audit: AuditTrail;
  readonly store: PostgresGrantStore;
  readonly attestation: AttestationServiceClient;
  readonly decision: DecisionServiceClient;
  readonly revocation: RevocationServiceClient;
  /** The registry (served by attestation), for a person's ShrinkCeiling only. */
  readonly registry: RegistryServiceClient;
  readonly sessionRegistry: PostgresSessionRegistry;
  readonly peerThrottle: PeerThrottle;
  readonly announcer: Notifications;
  readonly grantStates: GrantStateListener;
  readonly people: HumanIdentityProvider | undefined;
  readonly workloadCertificates: WorkloadCertificates;
  /** What each resource's grants carry (a login made by its connector, or the access token). */
  readonly credentials: CredentialCatalog;
  /**
   * Audit events are committed with what they describe; delivery to the audit service happens
   * in the background (batched, retried from the outbox), never on a grant's critical path.
   */
  deliverAudit(events: readonly AuditEvent[]): void;
}

export async function connectInfrastructure(settings: IssuanceSettings, env: EnvReader, log: Logger): Promise<IssuanceInfrastructure> {
  const { databaseUrl, natsUrl } = settings.common;
  await assertDatabaseReachable(databaseUrl);
  const db = createDatabase({ url: databaseUrl, applicationName: 'mayfly-issuance', maxConnections: 20 });
  await assertSchemaCurrent(db);
  const audit = auditTrailFromEnv('issuance', db, log, env);
  const people = HumanIdentityProvider.fromEnv(env);
  if (!people) log.warn("no approvers' identity provider configured (MAYFLY_APPROVER_ISSUER): requests that need approval wait until they expire");
  return {
    db,
    audit,
    store: new PostgresGrantStore(db, audit, settings.grantCommit),
    attestation: createClient(AttestationServiceClient, serviceAddress('attestation', env), 'attestation'),
    // Connected at once: every decision replica is ready when the first grant opens its streams.
    decision: connectEagerly(createClient(DecisionServiceClient, serviceAddress('decision', env), 'decision')),
    revocation: createClient(RevocationServiceClient, serviceAddress('revocation', env), 'revocation'),
    registry: createClient(RegistryServiceClient, serviceAddress('attestation', env), 'attestation'),
    sessionRegistry: new PostgresSessionRegistry(db, settings.sessionCheckCacheMs),
    peerThrottle: new PeerThrottle(settings.unauthenticatedRateLimit),
    announcer: new Notifications(
      [new NatsAnnouncer(natsUrl, log), ...(settings.notifications.webhook ? [new WebhookAnnouncer(settings.notifications.webhook, log)] : [])],
      settings.notifications.consoleUrl,
    ),
    grantStates: new GrantStateListener(databaseUrl, (error) => log.warn({ err: error }, 'listening for grant state changes failed; retrying (watchers re-read every 2 s meanwhile)')),
    people,
    workloadCertificates: new WorkloadCertificates(settings.workloadCaFile),
    credentials: new CredentialCatalog(db, settings.logins.resourceCacheMs, log),
    deliverAudit: (events) => void withSpan('audit deliver', { 'mayfly.audit.events': events.length }, () => audit.deliver(events)),
  };
}

/** Starts the background parts; returns what stops them, in order. */
export function startInfrastructure(infra: IssuanceInfrastructure): Array<() => Promise<void> | void> {
  infra.audit.start();
  infra.announcer.start();
  infra.grantStates.start();
  return [
    () => infra.audit.close(),
    () => infra.announcer.close(),
    () => infra.grantStates.close(),
    () => {
      infra.attestation.close();
      infra.decision.close();
      infra.revocation.close();
      infra.registry.close();
    },
    () => infra.db.destroy(),
  ];
}
