import { toGrantMessage, type GrantRecord } from '@mayfly/model';
import { EVIDENCE_KINDS_SENTENCE, MayflyError, isMayflyError } from '@mayfly/core';
import { Effect, type AuditEvent, type Credential, type DecideResponse, type RequestGrantRequest, type RequestGrantResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { credentialIssuedDetail } from './credential-record.js';
import { grantBounds } from './grant-bounds.js';
import { decisionDetail, effectName, mintGrantToken, refuseIfDenied } from './grant-steps.js';
import { readGrantRequest, type TtlPolicy, type ValidGrantRequest } from './grant-request.js';
import type { GrantFlowPorts } from './ports.js';
import { PeerThrottle } from './peer-throttle.js';
import { GrantRateLimiter, type RateLimit } from './rate-limiter.js';
import { replayGrant, requestDigest } from './idempotency.js';
import { issuedDetail } from './issued-record.js';
import { pendingGrant } from './pending-grant.js';
import { newGrantRecord } from './grant-record.js';
import { RequestTrail, answeredDetail } from './request-trail.js';
import { identityDetail, type SessionCertificate, type WorkloadIdentity } from './workload-identity.js';

export interface GrantFlowOptions extends TtlPolicy {
  /** Grant requests per workload (token bucket); perSecond 0 turns limiting off. */
  readonly rateLimit: RateLimit;
  /**
   * Requests per network peer before their evidence is checked: checking a signature costs
   * work an unauthenticated flood should not be able to demand without bound.
   */
  readonly unauthenticatedRateLimit: RateLimit;
  /** MAYFLY_MAX_GRANT_SECONDS: no grant is renewed past this long after its issue. */
  readonly maxGrantSeconds: number;
  /** MAYFLY_BREAK_GLASS_MAX_SECONDS: no break-glass grant (nor any of its tokens) lives longer. */
  readonly breakGlassMaxSeconds: number;
}

/** What the transport knows of one RequestGrant call. */
export interface GrantCall {
  readonly deadline?: Date | undefined;
  /** The caller's network address (host), for the per-peer limit on unauthenticated requests. */
  readonly peer?: string | undefined;
  /** The X.509-SVID the caller presented, verified against the workload CA by the TLS layer. */
  readonly session?: SessionCertificate | undefined;
  /** Why the certificate the caller presented is not an acceptable X.509-SVID, if it is not. */
  readonly sessionProblem?: string | undefined;
  /** The request's trace, when it is recorded: kept in its audit record so people can open it. */
  readonly traceId?: string | undefined;
}

/**
 * One grant, as a pipeline of named steps:
 *   read → identify (session certificate, or evidence through attestation) → throttle →
 *   decide → mint → commit (grant row and audit events, one local transaction) → deliver
 *   the audit events to the audit service in the background. An issued grant leaves one record,
 *   grant.issued, which also says what was asked, proved and decided; a refusal leaves each
 *   step's. When policy sends the request for approval, hold replaces mint and commit: a pending
 *   grant without a token, collected later.
 * A refusal at any step is audited the same way (committed locally, delivered later) and
 * leaves no grant behind.
 */
export class GrantFlow {
  private readonly limiter: GrantRateLimiter;

  constructor(
    private readonly ports: GrantFlowPorts,
    private readonly credentials: CredentialFormat,
    private readonly options: GrantFlowOptions,
    private readonly peerThrottle = new PeerThrottle(options.unauthenticatedRateLimit),
  ) {
    this.limiter = new GrantRateLimiter(options.rateLimit);
  }

  async requestGrant(raw: RequestGrantRequest, call: GrantCall = {}): Promise<RequestGrantResponse> {
    const requestedAt = new Date();
    const request = readGrantRequest(raw, this.options, requestedAt);
    const trail = new RequestTrail(request);
    try {
      const identity = await this.identify(request, call, trail, requestedAt);
      this.throttle(identity, trail);
      const decision = await this.decide(identity, request, trail, call.deadline);
      if (decision.effect === Effect.EFFECT_NEEDS_APPROVAL) return await this.hold(identity, request, decision, trail);
      return await this.issue(identity, request, decision, trail);
    } catch (error) {
      await this.recordRefusal(trail, error);
      throw error;
    }
  }

  /**
   * Step, only when the commit finds the request's idempotency key taken (a retry, or a
   * concurrent attempt): answer with the grant the key already has. The database's unique key
   * decides, so the usual path pays no lookup for it.
   */
  private async replay(identity: WorkloadIdentity, request: ValidGrantRequest, trail: RequestTrail, attempted: Credential): Promise<RequestGrantResponse> {
    const earlier = await this.ports.findIdempotentGrant(identity.workload.spiffeId, request.idempotencyKey ?? '');
    if (!earlier) throw new MayflyError('ERR_INTERNAL', 'idempotency key taken, but its grant is not found');
    const response = replayGrant(earlier, request, this.credentials, trail);
    // Where the token is the credential, the replayed token is; a login's password is not sent again.
    if (attempted.accessToken !== undefined) response.credential = { accessToken: response.accessToken };
    await this.ports.commitEvents(trail.events);
    this.ports.deliverAudit(trail.events);
    return response;
  }

  /** Step: who is asking. A session certificate says it outright; evidence goes to attestation. */
  private async identify(request: ValidGrantRequest, call: GrantCall, trail: RequestTrail, requestedAt: Date): Promise<WorkloadIdentity> {
    trail.add({ kind: 'grant.requested', outcome: 'success', occurredAt: requestedAt, detail: { ...describeRequest(request), ...(call.traceId ? { traceId: call.traceId } : {}) } });
    if (call.sessionProblem) throw new MayflyError('ERR_SVID_REJECTED', call.sessionProblem);
    if (call.session) {
      const { workload, evidence } = await this.ports.checkSession(call.session);
      trail.identify(workload.spiffeId);
      return { via: 'session', workload, certificate: call.session, evidence };
    }
    if (!request.evidence) {
      throw new MayflyError(
        'ERR_ATTESTATION_FAILED',
        `no identity: send evidence (${EVIDENCE_KINDS_SENTENCE}), or call over mutual TLS with the X.509-SVID from StartSession ` +
          '(a certificate that does not chain to the workload CA, or has expired, counts as none)',
      );
    }
    this.peerThrottle.take(call.peer ?? 'unknown', (detail) => trail.add({ kind: 'grant.throttled', outcome: 'denied', detail }));
    const attested = await this.ports.attest(request.evidence, call.deadline);
    if (!attested.workload) throw new MayflyError('ERR_INTERNAL', 'attestation answered without a workload');
    trail.identify(attested.workload.spiffeId);
    const identity: WorkloadIdentity = {
      via: 'evidence',
      workload: attested.workload,
      attestor: attested.attestor,
      issuer: attested.issuer,
      subject: attested.subject,
      evidenceDigest: attested.evidenceDigest,
      evidence: { attestor: attested.attestor, issuer: attested.issuer, claims: attested.claims },
    };
    trail.add({ kind: 'attestation.succeeded', outcome: 'success', detail: identityDetail(identity) });
    return identity;
  }

  /** Step: an agent looping on elevation runs dry; the trail hears of it once a second. */
  private throttle(identity: WorkloadIdentity, trail: RequestTrail): void {
    const rate = this.limiter.take(identity.workload.spiffeId);
    if (rate.allowed) return;
    const { perSecond, burst } = this.options.rateLimit;
    if (rate.refusalsToAudit !== undefined) trail.add({ kind: 'grant.throttled', outcome: 'denied', detail: { refusedSinceLastRecord: rate.refusalsToAudit, perSecond, burst } });
    throw new MayflyError(
      'ERR_RATE_LIMITED',
      `too many grant requests from ${identity.workload.spiffeId} (limit ${perSecond} per second, burst ${burst}); retry in ${rate.retryAfterMs} ms`,
      { retryAfterMs: rate.retryAfterMs },
    );
  }

  /** Step: policy and ceiling; a deny is recorded with its reasons and policies. */
  private async decide(identity: WorkloadIdentity, request: ValidGrantRequest, trail: RequestTrail, deadline: Date | undefined): Promise<DecideResponse> {
    const decision = await this.ports.decide(
      {
        workload: identity.workload,
        task: request.task,
        resource: request.resource,
        actions: [...request.actions],
        requestedTtlSeconds: request.requestedTtlSeconds,
        justification: request.justification,
        delegation: undefined,
        breakGlass: request.breakGlass,
        evidence: identity.evidence,
      },
      deadline,
    );
    trail.add({ kind: 'decision.made', outcome: effectName(decision) === 'deny' ? 'denied' : 'success', detail: decisionDetail(decision) });
    refuseIfDenied(decision);
    return decision;
  }

  /**
   * Step, instead of issue, when policy says people must approve: a pending grant (no token)
   * and its approval request, committed with the audit trail. The workload collects the token
   * with WatchGrant and the claim secret once the approvals are in.
   */
  private async hold(identity: WorkloadIdentity, request: ValidGrantRequest, decision: DecideResponse, trail: RequestTrail): Promise<RequestGrantResponse> {
    const pending = pendingGrant(identity, request, decision, strictestInterval(request.heartbeatIntervalSeconds, decision.heartbeatSeconds), new Date());
    const rule = decision.approval!;
    trail.add({
      kind: 'grant.pending_approval',
      outcome: 'success',
      detail: {
        rule: rule.rule,
        approverGroups: rule.approverGroups,
        threshold: rule.threshold,
        pendingUntil: pending.approval.pending_until.toISOString(),
        resource: request.resource,
        actions: pending.grant.actions,
        taskKind: request.task.kind,
        taskReference: request.task.reference,
        ...(request.justification ? { justification: request.justification } : {}),
        ...identityDetail(identity),
      },
    });
    for (const event of trail.events) event.grantId = pending.grant.id;
    await this.ports.commitPendingGrant(pending.grant, pending.approval, trail.events);
    this.ports.deliverAudit(trail.events);
    this.ports.announcePending(pending.grant, pending.approval, identity.workload);
    return { grant: toGrantMessage(pending.grant, { request: { ...pending.approval, approved_at: null, rejected_at: null, created_at: pending.grant.issued_at }, votes: [] }), accessToken: '', claimSecret: pending.claimSecret, credential: undefined };
  }

  /** Step: mint the credential, commit grant and audit together, hand the token back. */
  private async issue(identity: WorkloadIdentity, request: ValidGrantRequest, decision: DecideResponse, trail: RequestTrail): Promise<RequestGrantResponse> {
    const issuedAt = new Date();
    // Break-glass is short: neither a token nor the grant outlives the break-glass maximum.
    const cap = decision.breakGlass ? this.options.breakGlassMaxSeconds : Infinity;
    const bounds = grantBounds({
      issuedAt,
      requestedTtlSeconds: request.requestedTtlSeconds,
      policyMaxTtlSeconds: Math.min(decision.maxTtlSeconds, cap),
      policyMaxGrantSeconds: decision.breakGlass ? Math.min(decision.maxGrantSeconds || cap, cap) : decision.maxGrantSeconds,
      globalMaxGrantSeconds: this.options.maxGrantSeconds,
      taskDeadline: request.task.deadline,
    });
    const { expiresAt, tokenLifetimeSeconds } = bounds;
    // A single-use token is never renewed: its grant ends with it.
    const renewableUntil = request.singleUse ? expiresAt : bounds.renewableUntil;
    const grant = newGrantRecord({
      spiffeId: identity.workload.spiffeId,
      task: request.task,
      resource: request.resource,
      decision,
      status: 'active',
      issuedAt,
      expiresAt,
      renewableUntil,
      tokenLifetimeSeconds,
      heartbeatIntervalSeconds: strictestInterval(request.heartbeatIntervalSeconds, decision.heartbeatSeconds),
      singleUse: request.singleUse,
      breakGlass: decision.breakGlass,
    });
    const thumbprint = identity.via === 'session' ? identity.certificate.thumbprint : undefined;
    const accessToken = await mintGrantToken(this.credentials, grant, { issuedAt, expiresAt, boundTo: thumbprint });
    if (request.idempotencyKey) {
      Object.assign(grant, { idempotency_key: request.idempotencyKey, request_digest: requestDigest(request), token_reissue: this.credentials.reissuable(accessToken) });
    }
    // The grant's record stands for the request, the attestation and the decision too (see answeredDetail).
    const answered = trail.takeAnswered();
    trail.add({
      kind: 'grant.issued',
      outcome: 'success',
      occurredAt: issuedAt,
      detail: { ...issuedDetail(grant, { format: this.credentials.name, justification: request.justification, boundTo: thumbprint }), ...identityDetail(identity), ...answeredDetail(answered) },
    });
    if (grant.break_glass) {
      // Its own record, for whoever watches for break-glass: it must be reviewed after.
      trail.add({
        kind: 'grant.break_glass',
        outcome: 'success',
        occurredAt: issuedAt,
        detail: { severity: 'high', incidentReference: grant.task_reference, justification: request.justification, resource: grant.resource, scopes: grant.actions, expiresAt: expiresAt.toISOString(), reviewRequired: true },
      });
    }
    const credential = await this.attachCredential(grant, accessToken, trail, issuedAt);
    for (const event of trail.events) event.grantId = grant.id;
    const committed = await this.ports.commitGrant(grant, trail.events).catch(async (error: unknown) => {
      await this.ports.destroyCredential(grant).catch(() => undefined); // the reconciler, should this fail too
      throw error;
    });
    if (committed === 'idempotency-key-taken') {
      await this.ports.destroyCredential(grant).catch(() => undefined);
      // An earlier or concurrent attempt under the same key committed first: answer with its
      // grant. What this attempt did stays on record, except the grant it did not get to keep.
      trail.events.splice(trail.events.findIndex((event) => event.kind === 'grant.issued'), 1);
      const credentialEvent = trail.events.findIndex((event) => event.kind === 'credential.issued');
      if (credentialEvent >= 0) trail.events.splice(credentialEvent, 1);
      trail.restore(answered);
      for (const event of trail.events) event.grantId = '';
      return this.replay(identity, request, trail, credential);
    }
    // The commit above is the durable audit record (invariant 1); the audit service gets it
    // from the outbox, now or — if it is away — by the retry loop. The token does not wait.
    this.ports.deliverAudit(trail.events);
    if (grant.break_glass) this.ports.announceBreakGlass(grant, identity.workload);
    return { grant: toGrantMessage(grant), accessToken, claimSecret: '', credential };
  }

  /**
   * Step: the credential the grant carries, from the catalog. A login (a resource with dynamic
   * logins) is made before the grant commits, so a crash in between leaves a login no grant
   * backs — which the reconciler destroys — and never a grant whose login does not exist. Its
   * password is in the answer only; the audit record names the user.
   */
  private async attachCredential(grant: GrantRecord, accessToken: string, trail: RequestTrail, issuedAt: Date): Promise<Credential> {
    const credential = await this.ports.issueCredential(grant, accessToken);
    const detail = credentialIssuedDetail(credential);
    if (detail) trail.add({ kind: 'credential.issued', outcome: 'success', occurredAt: issuedAt, detail });
    return credential;
  }

  /** A refusal leaves its trail: committed locally like a grant's, delivered in the background. */
  private async recordRefusal(trail: RequestTrail, error: unknown): Promise<void> {
    if (isMayflyError(error, 'ERR_ATTESTATION_FAILED') || isMayflyError(error, 'ERR_SVID_REJECTED')) {
      trail.add({ kind: 'attestation.failed', outcome: 'failed', detail: { reason: error.message } });
    } else if (isMayflyError(error, 'ERR_RATE_LIMITED')) {
      // Throttling is audited once a second with a count: only the refusal that carries it.
      if (!trail.events.some((event) => event.kind === 'grant.throttled')) return;
    } else if (trail.events.some((event) => event.kind === 'grant.idempotency_conflict')) {
      // refused for reusing a key: committed below like a policy refusal
    } else if (!isMayflyError(error, 'ERR_POLICY_DENIED')) {
      return; // not a refusal (a dependency failed): nothing was decided about this workload
    }
    await this.ports.commitEvents(trail.events);
    this.ports.deliverAudit(trail.events);
  }
}

/** The shorter of two liveness intervals, 0 meaning none; null when neither asks for one. */
function strictestInterval(asked: number, required: number): number | null {
  const set = [asked, required].filter((seconds) => seconds > 0);
  return set.length > 0 ? Math.min(...set) : null;
}

function describeRequest(request: ValidGrantRequest): Record<string, unknown> {
  return {
    taskKind: request.task.kind,
    taskReference: request.task.reference,
    resource: request.resource,
    actions: request.actions,
    requestedTtlSeconds: request.requestedTtlSeconds,
    justification: request.justification,
  };
}
