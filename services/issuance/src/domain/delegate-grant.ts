import { type AuditEventInput, type GrantRecord, auditEvent, toGrantMessage } from '@mayfly/model';
import { createHash } from 'node:crypto';
import { MayflyError, isMayflyError } from '@mayfly/core';
import { Effect, type AuditEvent, type DecideRequest, type DecideResponse, type DelegateGrantRequest, type DelegateGrantResponse, type Delegation, type Workload } from '@mayfly/proto';
import type { CredentialFormat, PresentedCredential } from '../credentials/credential-format.js';
import { credentialIssuedDetail } from './credential-record.js';
import { delegationFrom, readDelegation, type ValidDelegation } from './delegation-request.js';
import { grantBounds } from './grant-bounds.js';
import { decisionDetail, mintGrantToken, refuseIfDenied, taskOf } from './grant-steps.js';
import { newGrantRecord } from './grant-record.js';
import { issuedDetail } from './issued-record.js';
import type { GrantCall } from './grant-flow.js';
import type { GrantFlowPorts } from './ports.js';
import type { TtlPolicy } from './grant-request.js';
import { authenticateHolder } from './grant-holder.js';
import { liveGrant, type RenewalPorts } from './renew-grant.js';
import type { SessionCertificate } from './workload-identity.js';

export interface DelegationPorts extends Pick<RenewalPorts, 'findGrant' | 'checkSession' | 'checkWorkloadEnabled' | 'commitEvents' | 'deliverAudit'>, Pick<GrantFlowPorts, 'issueCredential' | 'destroyCredential'> {
  /** The registered workload and when it was disabled (if it is); undefined if not registered. */
  findWorkload(spiffeId: string): Promise<{ workload: Workload; disabledAt: Date | undefined } | undefined>;
  /**
   * The delegate's X.509-SVID, parsed and verified against the workload CA; throws
   * ERR_INVALID_ARGUMENT if it is not one (or has expired).
   */
  readCertificate(pem: string): SessionCertificate;
  decide(request: DecideRequest, deadline: Date | undefined): Promise<DecideResponse>;
  /** Commits the child grant and its audit events if the parent is still active and covers it; false otherwise. */
  commitDelegatedGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<boolean>;
  /**
   * Takes one unauthenticated refusal from the peer's budget (throws ERR_RATE_LIMITED past it;
   * `audit` hears of those refusals once a second): a flood of forged tokens cannot buy an
   * unbounded number of audit writes.
   */
  throttleUnauthenticated(peer: string, audit: (detail: Record<string, unknown>) => void): void;
}

export interface DelegationOptions extends TtlPolicy {
  readonly maxGrantSeconds: number;
  /** MAYFLY_MAX_DELEGATION_DEPTH: how many times access may be passed on (0: never). */
  readonly maxDepth: number;
}

const SOURCE = 'issuance';

/**
 * Passes part of a grant on to another workload (RFC 8693 delegation). Steps:
 *   read → authenticate the parent's holder (its token, and its session when the token is bound)
 *   → the parent must be live → narrow (resource, actions ⊆ parent; depth; no loop) → the
 *   delegate must be registered and enabled → bind to the delegate's certificate → decide (the
 *   delegate's ceiling and policy, with the chain in context) → bound (exp ≤ parent exp, ceiling
 *   ≤ parent ceiling) → mint → commit (only while the parent is still active) → deliver.
 * Every refusal after the parent token's signature checked is audited, naming its holder.
 */
export async function delegateGrant(
  request: DelegateGrantRequest,
  call: GrantCall,
  credentials: CredentialFormat,
  ports: DelegationPorts,
  options: DelegationOptions,
  now = new Date(),
): Promise<DelegateGrantResponse> {
  const delegation = readDelegation(request, options);
  const presented = await inspectParent(delegation, call, credentials, ports, now);
  const record = (input: Omit<AuditEventInput, 'actor' | 'taskId'>): AuditEvent =>
    auditEvent(SOURCE, { ...input, actor: presented.spiffeId, taskId: presented.taskId, occurredAt: now });
  try {
    await authenticateHolder(presented, presented.grantId, call, ports, 'delegate');
    const parent = await liveGrant(presented.grantId, presented, ports);
    const chain = delegationFrom(parent, delegation, options.maxDepth);
    const delegate = await registeredDelegate(delegation.delegateSpiffeId, ports);
    const thumbprint = delegateBinding(delegation, presented, ports);
    if (thumbprint) await ports.checkSession(thumbprint.certificate);
    const decision = await decide(delegate, parent, delegation, chain, ports, call.deadline);
    const events = [record({ kind: 'decision.made', outcome: 'success', detail: decisionDetail(decision, { delegate: delegate.spiffeId }) })];
    const grant = childGrant(parent, delegate, delegation, chain, decision, options, now);
    const accessToken = await mintGrantToken(credentials, grant, { issuedAt: now, expiresAt: grant.expires_at, boundTo: thumbprint?.certificate.thumbprint });
    events.push(record({ kind: 'grant.issued', outcome: 'success', grantId: grant.id, detail: delegatedDetail(grant, parent, delegation, chain, credentials.name, thumbprint?.certificate.thumbprint) }));
    // The child's own credential: a login is made before it commits (a crash leaves an orphan for the reconciler).
    const credential = await ports.issueCredential(grant, accessToken);
    const detail = credentialIssuedDetail(credential);
    if (detail) events.push(record({ kind: 'credential.issued', outcome: 'success', grantId: grant.id, detail: { ...detail, delegated: true } }));
    for (const event of events) event.grantId = grant.id;
    const committed = await ports.commitDelegatedGrant(grant, events).catch(async (error: unknown) => {
      await ports.destroyCredential(grant).catch(() => undefined);
      throw error;
    });
    if (!committed) {
      await ports.destroyCredential(grant).catch(() => undefined);
      throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${parent.id} ended (or its token expired) while delegating from it; nothing was issued`);
    }
    ports.deliverAudit(events);
    return { grant: toGrantMessage(grant), accessToken, credential };
  } catch (error) {
    await auditRefusal(error, presented, delegation, record, ports);
    throw error;
  }
}

/**
 * The parent token's signature and issuer. A token that is not Mayfly's — forged, or with its
 * claims (act, scope) edited — is refused UNAUTHENTICATED and recorded with its digest, as
 * nobody can be named.
 */
async function inspectParent(delegation: ValidDelegation, call: GrantCall, credentials: CredentialFormat, ports: DelegationPorts, now: Date): Promise<PresentedCredential> {
  try {
    return await credentials.inspect(delegation.parentToken);
  } catch (error) {
    if (!isMayflyError(error, 'ERR_TOKEN_INVALID')) throw error;
    const peer = call.peer ?? 'unknown';
    const events: AuditEvent[] = [];
    const record = (kind: string, detail: Record<string, unknown>) => events.push(auditEvent(SOURCE, { kind, actor: 'unauthenticated', outcome: 'denied', occurredAt: now, detail }));
    try {
      ports.throttleUnauthenticated(peer, (detail) => record('grant.throttled', detail));
      record('grant.delegation_refused', {
        code: error.code,
        reason: error.message,
        peer,
        parentTokenDigest: createHash('sha256').update(delegation.parentToken).digest('base64url'),
        delegate: delegation.delegateSpiffeId,
        resource: delegation.resource,
        actions: delegation.actions,
      });
    } finally {
      if (events.length > 0) {
        await ports.commitEvents(events);
        ports.deliverAudit(events);
      }
    }
    throw error;
  }
}

/** The delegate must be registered and enabled: access goes only to identities Mayfly knows. */
async function registeredDelegate(spiffeId: string, ports: DelegationPorts): Promise<Workload> {
  const found = await ports.findWorkload(spiffeId);
  if (!found) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `${spiffeId} is not a registered workload; register it before delegating to it`);
  if (found.disabledAt) throw new MayflyError('ERR_WORKLOAD_DISABLED', `workload ${spiffeId} is disabled (since ${found.disabledAt.toISOString()}); it may not receive access`);
  return found.workload;
}

/**
 * The certificate the child token is bound to: the delegate's X.509-SVID when given. A parent
 * bound to a certificate only delegates bound: a bearer token must not come out of a bound one.
 */
function delegateBinding(delegation: ValidDelegation, presented: PresentedCredential, ports: DelegationPorts): { certificate: SessionCertificate } | undefined {
  if (!delegation.delegateCertificatePem) {
    if (presented.certificateThumbprint === undefined) return undefined;
    throw new MayflyError(
      'ERR_INVALID_ARGUMENT',
      "delegate_certificate_pem: required, because the parent token is bound to a certificate: send the delegate's X.509-SVID (from its StartSession) so that the child is bound to it",
      { field: 'delegate_certificate_pem' },
    );
  }
  const certificate = ports.readCertificate(delegation.delegateCertificatePem);
  if (certificate.spiffeId !== delegation.delegateSpiffeId) {
    throw new MayflyError('ERR_INVALID_ARGUMENT', `delegate_certificate_pem: names ${certificate.spiffeId}, not the delegate ${delegation.delegateSpiffeId}`, { field: 'delegate_certificate_pem' });
  }
  return { certificate };
}

/** The delegate's own ceiling and policy, with the chain in the policy's context. */
async function decide(delegate: Workload, parent: GrantRecord, delegation: ValidDelegation, chain: Delegation, ports: DelegationPorts, deadline: Date | undefined): Promise<DecideResponse> {
  const decision = await ports.decide(
    {
      workload: delegate,
      task: taskOf(parent),
      resource: delegation.resource,
      actions: [...delegation.actions],
      requestedTtlSeconds: delegation.requestedTtlSeconds,
      justification: delegation.justification,
      delegation: chain,
      breakGlass: false,
      // The delegate presented no evidence of its own here: policies see no claims (context.evidence empty).
      evidence: undefined,
    },
    deadline,
  );
  if (decision.effect === Effect.EFFECT_NEEDS_APPROVAL) {
    throw Object.assign(
      new MayflyError('ERR_POLICY_DENIED', `denied: policy sends this for approval (rule "${decision.approval?.rule ?? '?'}"), and a delegation does not wait for people: the delegate requests it itself`),
      { decision },
    );
  }
  refuseIfDenied(decision);
  return decision;
}

function childGrant(parent: GrantRecord, delegate: Workload, delegation: ValidDelegation, chain: Delegation, decision: DecideResponse, options: DelegationOptions, now: Date): GrantRecord {
  const bounds = grantBounds({
    issuedAt: now,
    requestedTtlSeconds: delegation.requestedTtlSeconds,
    policyMaxTtlSeconds: decision.maxTtlSeconds,
    policyMaxGrantSeconds: decision.maxGrantSeconds,
    globalMaxGrantSeconds: options.maxGrantSeconds,
    taskDeadline: parent.task_deadline ?? undefined,
    parent: { expiresAt: parent.expires_at, renewableUntil: parent.renewable_until },
  });
  return newGrantRecord({
    spiffeId: delegate.spiffeId,
    task: taskOf(parent),
    resource: parent.resource,
    decision,
    status: 'active',
    issuedAt: now,
    expiresAt: bounds.expiresAt,
    renewableUntil: bounds.renewableUntil,
    tokenLifetimeSeconds: bounds.tokenLifetimeSeconds,
    heartbeatIntervalSeconds: decision.heartbeatSeconds > 0 ? decision.heartbeatSeconds : null,
    delegation: { parentGrantId: parent.id, ancestorGrantIds: chain.parentGrantIds, delegators: chain.delegators },
  });
}

/** The issuance record of a delegated grant: who passed what on to whom, besides what was issued. */
function delegatedDetail(grant: GrantRecord, parent: GrantRecord, delegation: ValidDelegation, chain: Delegation, format: string, boundTo: string | undefined): Record<string, unknown> {
  return {
    ...issuedDetail(grant, { format, justification: delegation.justification, boundTo }),
    spiffeId: grant.spiffe_id,
    delegation: { parentGrantId: parent.id, parentScopes: parent.actions, delegators: chain.delegators, parentGrantIds: chain.parentGrantIds, depth: chain.delegators.length },
  };
}

/** A refusal is recorded against the parent grant, by its holder. Dependency failures are not refusals. */
async function auditRefusal(
  error: unknown,
  presented: PresentedCredential,
  delegation: ValidDelegation,
  record: (input: Omit<AuditEventInput, 'actor' | 'taskId'>) => AuditEvent,
  ports: DelegationPorts,
): Promise<void> {
  if (!isMayflyError(error) || error.code === 'ERR_DEPENDENCY_UNAVAILABLE' || error.code === 'ERR_INTERNAL' || error.code === 'ERR_DEADLINE_EXCEEDED') return;
  const decision = (error as { decision?: DecideResponse }).decision;
  const events = [
    // A delegation that policy would send to people is refused (it does not wait): recorded as a deny.
    ...(decision ? [record({ kind: 'decision.made', outcome: 'denied', grantId: presented.grantId, detail: { ...decisionDetail(decision, { delegate: delegation.delegateSpiffeId }), effect: 'deny' } })] : []),
    record({
      kind: 'grant.delegation_refused',
      outcome: 'denied',
      grantId: presented.grantId,
      detail: {
        code: error.code,
        reason: error.message,
        tokenId: presented.tokenId,
        delegate: delegation.delegateSpiffeId,
        resource: delegation.resource,
        actions: delegation.actions,
        ...(delegation.justification ? { justification: delegation.justification } : {}),
      },
    }),
  ];
  await ports.commitEvents(events);
  ports.deliverAudit(events);
}
