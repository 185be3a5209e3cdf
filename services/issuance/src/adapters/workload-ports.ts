import { findWorkload, insertDelegatedGrant, insertPendingGrant, recordHeartbeat, toWorkloadMessage } from '@mayfly/db';
import { callUnary } from '@mayfly/grpc';
import { GrantStatus, RevokeRequest, type Evidence } from '@mayfly/proto';
import { withSpan } from '@mayfly/telemetry';
import type { CredentialFormat } from '../credentials/credential-format.js';
import type { CompletionPorts } from '../domain/complete-grant.js';
import type { TaskCompletionPorts } from '../domain/complete-task.js';
import type { DelegationOptions, DelegationPorts } from '../domain/delegate-grant.js';
import { GrantFlow } from '../domain/grant-flow.js';
import type { GrantFlowPorts } from '../domain/ports.js';
import type { HeartbeatPorts } from '../domain/heartbeat.js';
import type { RenewalPorts } from '../domain/renew-grant.js';
import type { SessionPorts } from '../domain/start-session.js';
import type { SessionCertificate } from '../domain/workload-identity.js';
import type { IssuanceSettings } from '../settings.js';
import { batchedDecisions } from './batched-decisions.js';
import type { IssuanceInfrastructure } from './infrastructure.js';

/** The ports of what workloads call: grants, sessions, renewal, delegation, heartbeats, completion. */
export function workloadPorts(infra: IssuanceInfrastructure, credentials: CredentialFormat, settings: IssuanceSettings) {
  const { attestation, decision, revocation, store, sessionRegistry, peerThrottle, audit, db, deliverAudit } = infra;
  const holders = {
    checkSession: (certificate: SessionCertificate) => sessionRegistry.check(certificate),
    checkWorkloadEnabled: (spiffeId: string) => sessionRegistry.checkWorkloadEnabled(spiffeId),
  };
  const flowPorts: GrantFlowPorts = {
    attest: async (evidence, deadline) => callUnary(attestation, attestation.attest, { evidence }, { deadline, target: 'attestation' }),
    checkSession: (certificate) => withSpan('check session', { 'mayfly.spiffe_id': certificate.spiffeId }, () => sessionRegistry.check(certificate)),
    decide: batchedDecisions(decision, settings.decisionBatching),
    commitGrant: (grant, events) => withSpan('persist grant', { 'mayfly.grant_id': grant.id }, () => store.commitGrant(grant, events)),
    commitEvents: (events) => withSpan('persist events', {}, () => store.commitEvents(events)),
    findIdempotentGrant: (spiffeId, key) => store.findIdempotentGrant(spiffeId, key),
    commitPendingGrant: (grant, approval, events) =>
      withSpan('persist pending grant', { 'mayfly.grant_id': grant.id }, () => insertPendingGrant(db, grant, approval, { owner: audit.owner, entries: audit.outboxEntries(events) })),
    announcePending: (grant, approval, workload) => infra.announcer.announcePending(grant, approval, workload),
    announceBreakGlass: (grant, workload) => infra.announcer.announceBreakGlass(grant, workload),
    deliverAudit,
    issueCredential: (grant, grantToken) =>
      withSpan('issue credential', { 'mayfly.grant_id': grant.id, 'mayfly.resource': grant.resource }, async () => {
        const credential = await infra.credentials.issue(grant, grantToken);
        if (credential.login) settings.crashAfterLoginCreated?.();
        return credential;
      }),
    destroyCredential: async (grant) => void (await infra.credentials.destroy(grant.id, grant.resource)),
  };
  const flow = new GrantFlow(
    flowPorts,
    credentials,
    { ...settings.ttl, breakGlassMaxSeconds: settings.breakGlassMaxSeconds, rateLimit: settings.rateLimit, unauthenticatedRateLimit: peerThrottle.limit },
    peerThrottle,
  );
  const sessions: SessionPorts = {
    issueSvid: (evidence: Evidence, publicKey: Uint8Array, deadline: Date | undefined) =>
      callUnary(attestation, attestation.issueSvid, { evidence, publicKey: Buffer.from(publicKey) }, { deadline, target: 'attestation' }),
    rotateSvid: (current: SessionCertificate, publicKey: Uint8Array, deadline: Date | undefined) =>
      callUnary(attestation, attestation.rotateSvid, { spiffeId: current.spiffeId, serial: current.serial, publicKey: Buffer.from(publicKey) }, { deadline, target: 'attestation' }),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
  };
  const renewal: RenewalPorts = {
    ...holders,
    findGrant: (id) => store.findGrant(id),
    commitRenewal: (token, events) => withSpan('persist renewal', { 'mayfly.grant_id': token.grantId }, () => store.commitRenewal(token, events)),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
    renewCredential: (grant, expiresAt) => withSpan('renew credential', { 'mayfly.grant_id': grant.id, 'mayfly.resource': grant.resource }, () => infra.credentials.renew(grant, expiresAt)),
  };
  const delegation: { ports: DelegationPorts; options: DelegationOptions } = {
    ports: {
      ...renewal,
      findWorkload: async (spiffeId) => {
        const row = await findWorkload(db, spiffeId);
        return row ? { workload: toWorkloadMessage(row), disabledAt: row.disabled_at ?? undefined } : undefined;
      },
      readCertificate: (pem) => infra.workloadCertificates.read(pem),
      decide: flowPorts.decide,
      throttleUnauthenticated: (peer, refusal) => peerThrottle.take(peer, refusal),
      issueCredential: flowPorts.issueCredential,
      destroyCredential: flowPorts.destroyCredential,
      commitDelegatedGrant: (grant, events) =>
        withSpan('persist delegated grant', { 'mayfly.grant_id': grant.id }, () => insertDelegatedGrant(db, grant, audit.owner, audit.outboxEntries(events))),
    },
    options: { ...settings.ttl, maxDepth: settings.maxDelegationDepth },
  };
  const heartbeats: HeartbeatPorts = {
    ...holders,
    findGrant: (id) => store.findGrant(id),
    recordHeartbeat: (grantId, at) => recordHeartbeat(db, grantId, at),
  };
  const revoke = (request: RevokeRequest, deadline: Date | undefined) => callUnary(revocation, revocation.revoke, request, { deadline, target: 'revocation' });
  const taskCompletion: TaskCompletionPorts = {
    ...holders,
    completeTask: (taskId, spiffeId, reason, note, deadline) =>
      revoke(RevokeRequest.fromPartial({ task: { taskId, spiffeId }, reason, requestedBy: note, finalStatus: GrantStatus.GRANT_STATUS_COMPLETED }), deadline),
  };
  const completion: CompletionPorts = {
    ...holders,
    complete: (grantId, reason, note, deadline) => revoke(RevokeRequest.fromPartial({ grantId, reason, requestedBy: note, finalStatus: GrantStatus.GRANT_STATUS_COMPLETED }), deadline),
  };
  return { flow, sessions, renewal, delegation, heartbeats, taskCompletion, completion };
}
