import { EnvReader, commonSettings, serviceAddress, tokenIssuerSettings, DEFAULT_PORTS } from '@mayfly/config';
import { MayflyError, type Logger } from '@mayfly/core';
import { auditTrailFromEnv } from '@mayfly/audit-trail';
import {
  GrantStateListener,
  assertDatabaseReachable,
  assertSchemaCurrent,
  countApprovalState,
  createDatabase,
  findApproval,
  findGrant,
  findSessionState,
  findWorkload,
  insertDelegatedGrant,
  insertPendingGrant,
  latestWorkloadRevocationSince,
  listRevokedKeyIds,
  recordBreakGlassReview,
  recordHeartbeat,
  recordVote,
  sessionRefusal,
  toWorkloadMessage,
} from '@mayfly/db';
import { callUnary, certificateFiles, createClient, startGrpcServer, transportSettings, type Closer } from '@mayfly/grpc';
import { observeApprovalState, withSpan } from '@mayfly/telemetry';
import {
  AttestationServiceClient,
  type AuditEvent,
  type Evidence,
  DecisionServiceClient,
  GrantStatus,
  ApprovalServiceService,
  IssuanceServiceService,
  RevocationServiceClient,
  RevokeRequest,
} from '@mayfly/proto';
import { postgresGrantReads } from './adapters/postgres-grant-reads.js';
import { PostgresGrantStore } from './adapters/postgres-grant-store.js';
import { HumanIdentityProvider } from './adapters/human-identity.js';
import { UnauthenticatedRefusals } from './domain/refusal-records.js';
import { DEFAULT_READER_GROUPS } from './domain/people-scope.js';
import { whyRequestNoLongerHolds, type RecheckPorts } from './domain/approval-recheck.js';
import { NatsAnnouncer } from './adapters/nats-announcer.js';
import { PostgresSessionRegistry } from './adapters/postgres-session-registry.js';
import { WorkloadCertificates } from './adapters/workload-certificates.js';
import { PeerThrottle } from './domain/peer-throttle.js';
import { approvalApi } from './api/approval-api.js';
import { issuanceApi } from './api/issuance-api.js';
import type { CredentialFormat } from './credentials/credential-format.js';
import { JwtAccessTokenFormat } from './credentials/jwt-access-token.js';
import { RevokedKeysFilter } from './credentials/revoked-keys-filter.js';
import type { AnswerPorts } from './domain/answer-request.js';
import type { CompletionPorts } from './domain/complete-grant.js';
import type { TaskCompletionPorts } from './domain/complete-task.js';
import type { DelegationOptions, DelegationPorts } from './domain/delegate-grant.js';
import type { HeartbeatPorts } from './domain/heartbeat.js';
import type { RenewalPorts } from './domain/renew-grant.js';
import type { SessionPorts } from './domain/start-session.js';
import type { ReviewPorts } from './domain/review-break-glass.js';
import type { WatchPorts } from './domain/watch-grant.js';
import type { SessionCertificate } from './domain/workload-identity.js';
import { SigningKeyring } from './credentials/signing-keyring.js';
import { GrantFlow } from './domain/grant-flow.js';
import { startJwksServer } from './http/jwks-server.js';


export async function startIssuanceService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader();
  const settings = commonSettings('issuance', env);
  const { issuer } = tokenIssuerSettings(env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-issuance', maxConnections: 20 });
  await assertSchemaCurrent(db);

  const maxTtlSeconds = env.int('MAYFLY_MAX_TTL_SECONDS', 3600, { min: 1, max: 86_400 });
  const signingKeys = SigningKeyring.open({
    dir: env.optionalString('MAYFLY_SIGNING_KEYRING_DIR'),
    retention: { maxTokenTtlSeconds: maxTtlSeconds, graceSeconds: env.int('MAYFLY_SIGNING_KEY_RETIRE_GRACE_SECONDS', 300, { min: 0, max: 86_400 }) },
    reloadIntervalMs: env.int('MAYFLY_SIGNING_KEYRING_RELOAD_MS', 5_000, { min: 100, max: 600_000 }),
    log,
  });
  // Keys revoked with `mayfly revoke key` leave the JWKS and never sign again.
  const unrevokedKeys = new RevokedKeysFilter(signingKeys);
  const refreshRevokedKeys = async (): Promise<void> => {
    const revoked = await listRevokedKeyIds(db);
    const newly = revoked.filter((kid) => !unrevokedKeys.isRevoked(kid));
    unrevokedKeys.update(revoked);
    if (newly.length > 0) log.warn({ revoked: newly }, 'signing keys revoked: no longer published or used');
  };
  await refreshRevokedKeys();
  const revokedKeysTimer = setInterval(() => {
    refreshRevokedKeys().catch((error: unknown) => log.warn({ err: error }, 'reading revoked signing keys failed; keeping the last list'));
  }, env.int('MAYFLY_REVOKED_KEYS_POLL_MS', 2_000, { min: 100, max: 60_000 }));
  revokedKeysTimer.unref();
  const credentials = new JwtAccessTokenFormat(issuer, unrevokedKeys);
  const audit = auditTrailFromEnv('issuance', db, log, env);
  const store = new PostgresGrantStore(db, audit);
  const attestation = createClient(AttestationServiceClient, serviceAddress('attestation', env), 'attestation');
  const decision = createClient(DecisionServiceClient, serviceAddress('decision', env), 'decision');
  const revocation = createClient(RevocationServiceClient, serviceAddress('revocation', env), 'revocation');

  const sessionRegistry = new PostgresSessionRegistry(db, env.int('MAYFLY_SESSION_CHECK_CACHE_MS', 2_000, { min: 0, max: 60_000 }));
  const peerThrottle = new PeerThrottle({
    perSecond: env.int('MAYFLY_UNAUTHENTICATED_RATE_PER_PEER', 200, { min: 0, max: 1_000_000 }),
    burst: env.int('MAYFLY_UNAUTHENTICATED_BURST_PER_PEER', 400, { min: 1, max: 1_000_000 }),
  });
  // Audit events are committed with what they describe; delivery to the audit service happens
  // in the background (batched, retried from the outbox), never on a grant's critical path.
  const deliverAudit = (events: readonly AuditEvent[]): void =>
    void withSpan('audit deliver', { 'mayfly.audit.events': events.length }, () => audit.deliver(events));

  const announcer = new NatsAnnouncer(settings.natsUrl, log);
  const grantStates = new GrantStateListener(settings.databaseUrl, (error) => log.warn({ err: error }, 'listening for grant state changes failed; retrying (watchers re-read every 2 s meanwhile)'));
  const people = HumanIdentityProvider.fromEnv(env);
  if (!people) log.warn('no approvers\' identity provider configured (MAYFLY_APPROVER_ISSUER): requests that need approval wait until they expire');
  const ttlPolicy = {
    defaultTtlSeconds: env.int('MAYFLY_DEFAULT_TTL_SECONDS', 300, { min: 1, max: 86_400 }),
    maxRequestTtlSeconds: maxTtlSeconds,
    maxGrantSeconds: env.int('MAYFLY_MAX_GRANT_SECONDS', 28_800, { min: 1, max: 7 * 86_400 }),
  };
  const flow = new GrantFlow(
    {
      attest: async (evidence, deadline) => callUnary(attestation, attestation.attest, { evidence }, { deadline, target: 'attestation' }),
      checkSession: (certificate) => withSpan('check session', { 'mayfly.spiffe_id': certificate.spiffeId }, () => sessionRegistry.check(certificate)),
      decide: async (request, deadline) => callUnary(decision, decision.decide, request, { deadline, target: 'decision' }),
      commitGrant: (grant, events) => withSpan('persist grant', { 'mayfly.grant_id': grant.id }, () => store.commitGrant(grant, events)),
      commitEvents: (events) => withSpan('persist events', {}, () => store.commitEvents(events)),
      findIdempotentGrant: (spiffeId, key) => store.findIdempotentGrant(spiffeId, key),
      commitPendingGrant: (grant, approval, events) =>
        withSpan('persist pending grant', { 'mayfly.grant_id': grant.id }, () => insertPendingGrant(db, grant, approval, { owner: audit.owner, entries: audit.outboxEntries(events) })),
      announcePending: (grant, approval, workload) => announcer.announcePending(grant, approval, workload),
      announceBreakGlass: (grant, workload) => announcer.announceBreakGlass(grant, workload),
      deliverAudit,
    },
    tracedCredentials(credentials),
    {
      ...ttlPolicy,
      breakGlassMaxSeconds: env.int('MAYFLY_BREAK_GLASS_MAX_SECONDS', 900, { min: 60, max: 86_400 }),
      rateLimit: {
        perSecond: env.int('MAYFLY_GRANT_RATE_PER_SECOND', 50, { min: 0, max: 1_000_000 }),
        burst: env.int('MAYFLY_GRANT_RATE_BURST', 100, { min: 1, max: 1_000_000 }),
      },
      unauthenticatedRateLimit: peerThrottle.limit,
    },
    peerThrottle,
  );
  const sessions: SessionPorts = {
    issueSvid: (evidence: Evidence, publicKey: Uint8Array, deadline: Date | undefined) =>
      callUnary(attestation, attestation.issueSvid, { evidence, publicKey: Buffer.from(publicKey) }, { deadline, target: 'attestation' }),
    rotateSvid: (current: SessionCertificate, publicKey: Uint8Array, deadline: Date | undefined) =>
      callUnary(attestation, attestation.rotateSvid, { spiffeId: current.spiffeId, serial: current.serial, publicKey: Buffer.from(publicKey) }, { deadline, target: 'attestation' }),
    commitEvents: (events: readonly AuditEvent[]) => store.commitEvents(events),
    deliverAudit,
  };
  const renewal: RenewalPorts = {
    findGrant: (id) => store.findGrant(id),
    checkSession: (certificate) => sessionRegistry.check(certificate),
    checkWorkloadEnabled: (spiffeId) => sessionRegistry.checkWorkloadEnabled(spiffeId),
    commitRenewal: (token, events) => withSpan('persist renewal', { 'mayfly.grant_id': token.grantId }, () => store.commitRenewal(token, events)),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
  };
  const workloadCertificates = new WorkloadCertificates(env.optionalString('MAYFLY_WORKLOAD_CA_FILE'));
  const delegation: { ports: DelegationPorts; options: DelegationOptions } = {
    ports: {
      ...renewal,
      findWorkload: async (spiffeId) => {
        const row = await findWorkload(db, spiffeId);
        return row ? { workload: toWorkloadMessage(row), disabledAt: row.disabled_at ?? undefined } : undefined;
      },
      readCertificate: (pem) => workloadCertificates.read(pem),
      decide: async (request, deadline) => callUnary(decision, decision.decide, request, { deadline, target: 'decision' }),
      throttleUnauthenticated: (peer, audit) => peerThrottle.take(peer, audit),
      commitDelegatedGrant: (grant, events) =>
        withSpan('persist delegated grant', { 'mayfly.grant_id': grant.id }, () => insertDelegatedGrant(db, grant, audit.owner, audit.outboxEntries(events))),
    },
    // How many times access may be passed on: agent → sub-agent → tool is 2.
    options: { ...ttlPolicy, maxDepth: env.int('MAYFLY_MAX_DELEGATION_DEPTH', 3, { min: 0, max: 16 }) },
  };
  const verifyApprover = async (idToken: string) => {
    if (!people) throw new MayflyError('ERR_CONFIG', 'no approvers\' identity provider is configured (MAYFLY_APPROVER_ISSUER, MAYFLY_APPROVER_JWKS_URL): nobody can approve here');
    return people.verify(idToken);
  };
  const findOwners = async (spiffeId: string) => {
    const row = await findWorkload(db, spiffeId);
    return row ? { ownerTeam: row.owner_team, ownerContact: row.owner_contact, disabled: row.disabled_at !== null } : undefined;
  };
  // Refusals of people who proved no identity: recorded sparingly per peer, then aggregated.
  const unauthenticatedRefusals = new UnauthenticatedRefusals();
  const unauthenticatedRefusal = (peer: string) => unauthenticatedRefusals.record(peer);
  const recheck: RecheckPorts = {
    findWorkload: async (spiffeId) => {
      const row = await findWorkload(db, spiffeId);
      return row ? { workload: toWorkloadMessage(row), disabledAt: row.disabled_at ?? undefined } : undefined;
    },
    sessionRefusal: async (spiffeId, serial) => {
      const { workload, svid } = await findSessionState(db, spiffeId, serial);
      if (svid && svid.expires_at.getTime() <= Date.now()) return `certificate ${serial} expired at ${svid.expires_at.toISOString()}`;
      return sessionRefusal({ spiffeId, serial }, workload, svid);
    },
    workloadRevokedSince: async (spiffeId, since) => {
      const row = await latestWorkloadRevocationSince(db, spiffeId, since);
      return row ? { revokedAt: row.revoked_at, reason: row.reason } : undefined;
    },
    decide: (request) => callUnary(decision, decision.decide, request, { target: 'decision' }),
  };
  const answers: AnswerPorts = {
    verifyApprover,
    findOwners,
    unauthenticatedRefusal,
    whyNoLongerHolds: (current) => whyRequestNoLongerHolds(current, recheck),
    recordAnswer: async (grantId, decide) => {
      let committed: readonly AuditEvent[] = [];
      const result = await recordVote(
        db,
        grantId,
        async (current) => {
          const decided = await decide(current);
          committed = decided.events;
          return { ...decided, events: audit.outboxEntries(decided.events) };
        },
        audit.owner,
      );
      deliverAudit(committed);
      return result;
    },
    findApproval: (grantId) => findApproval(db, grantId),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
  };
  const reviews: ReviewPorts = {
    verifyApprover,
    findOwners,
    unauthenticatedRefusal,
    findGrant: (grantId) => findGrant(db, grantId),
    commitReview: (review, events) => recordBreakGlassReview(db, review, { owner: audit.owner, entries: audit.outboxEntries(events) }),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
  };
  const watching: WatchPorts = {
    findApproval: (grantId) => findApproval(db, grantId),
    waitForChange: (grantId, timeoutMs) => grantStates.waitForChange(grantId, timeoutMs),
  };
  const heartbeats: HeartbeatPorts = {
    findGrant: (id) => store.findGrant(id),
    checkSession: (certificate) => sessionRegistry.check(certificate),
    checkWorkloadEnabled: (spiffeId) => sessionRegistry.checkWorkloadEnabled(spiffeId),
    recordHeartbeat: (grantId, at) => recordHeartbeat(db, grantId, at),
  };
  const holders = {
    checkSession: (certificate: SessionCertificate) => sessionRegistry.check(certificate),
    checkWorkloadEnabled: (spiffeId: string) => sessionRegistry.checkWorkloadEnabled(spiffeId),
  };
  const taskCompletion: TaskCompletionPorts = {
    ...holders,
    completeTask: (taskId, spiffeId, reason, note, deadline) =>
      callUnary(
        revocation,
        revocation.revoke,
        RevokeRequest.fromPartial({ task: { taskId, spiffeId }, reason, requestedBy: note, finalStatus: GrantStatus.GRANT_STATUS_COMPLETED }),
        { deadline, target: 'revocation' },
      ),
  };
  const completion: CompletionPorts = {
    ...holders,
    complete: (grantId: string, reason: string, note: string, deadline: Date | undefined) =>
      callUnary(
        revocation,
        revocation.revoke,
        { grantId, reason, requestedBy: note, finalStatus: GrantStatus.GRANT_STATUS_COMPLETED },
        { deadline, target: 'revocation' },
      ),
  };

  audit.start();
  observeApprovalState(() => countApprovalState(db));
  announcer.start();
  grantStates.start();
  const jwks = await startJwksServer({
    host: settings.host,
    port: env.port('MAYFLY_ISSUANCE_HTTP_PORT', DEFAULT_PORTS['issuance-http']),
    issuer,
    keys: () => unrevokedKeys.published(),
    log,
    tls: (() => {
      const transport = transportSettings(true);
      return transport.mode === 'tls' ? certificateFiles({ certFile: transport.certFile, keyFile: transport.keyFile }) : undefined;
    })(),
  });
  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    requireClientCertificate: false,
    // Workloads in a session present their X.509-SVID, verified against the workload CA.
    optionalClientCaFile: env.optionalString('MAYFLY_WORKLOAD_CA_FILE'),
    log,
    services: [
      {
        name: 'mayfly.v1.IssuanceService',
        definition: IssuanceServiceService,
        implementation: issuanceApi({ flow, credentials, completion, renewal, delegation, taskCompletion, heartbeats, watching, sessions, peerThrottle, log }),
      },
      {
        name: 'mayfly.v1.ApprovalService',
        definition: ApprovalServiceService,
        implementation: approvalApi({ reads: postgresGrantReads(db), credentials, answers, reviews, options: { maxGrantSeconds: ttlPolicy.maxGrantSeconds }, scope: { readerGroups: env.list('MAYFLY_GRANT_READER_GROUPS', [...DEFAULT_READER_GROUPS]) }, log }),
      },
    ],
  });
  return [
    () => server.shutdown(settings.drainSeconds * 1000),
    () => jwks.close(),
    () => {
      clearInterval(revokedKeysTimer);
      signingKeys.close();
    },
    () => audit.close(),
    () => announcer.close(),
    () => grantStates.close(),
    () => {
      attestation.close();
      decision.close();
      revocation.close();
    },
    () => db.destroy(),
  ];
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
