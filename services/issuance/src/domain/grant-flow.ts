import { MayflyError, isMayflyError, newId } from '@mayfly/core';
import { auditEvent } from '@mayfly/audit-trail';
import { toGrantMessage, type GrantRecord } from '@mayfly/db';
import { Effect, type AttestResponse, type RequestGrantRequest, type RequestGrantResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { credentialExpiry, readGrantRequest, type TtlPolicy, type ValidGrantRequest } from './grant-request.js';
import type { GrantFlowPorts } from './ports.js';
import { GrantRateLimiter, type RateLimit } from './rate-limiter.js';

const SOURCE = 'issuance';

export interface GrantFlowOptions extends TtlPolicy {
  /**
   * When true (the default), a token is only returned once the audit service has stored the
   * issuance record; if it cannot, the grant is withheld and the caller gets UNAVAILABLE.
   */
  readonly requireAuditAck: boolean;
  /** Grant requests per workload (token bucket); perSecond 0 turns limiting off. */
  readonly rateLimit: RateLimit;
  /**
   * Requests per network peer before their evidence is checked: checking a signature costs
   * work an unauthenticated flood should not be able to demand without bound.
   */
  readonly unauthenticatedRateLimit: RateLimit;
}

/**
 * One grant, start to finish: validate → attest → decide → commit grant and audit → deliver
 * audit → mint the credential. Refusals are audited too, and leave no grant behind.
 */
export class GrantFlow {
  private readonly limiter: GrantRateLimiter;
  private readonly peerLimiter: GrantRateLimiter;

  constructor(
    private readonly ports: GrantFlowPorts,
    private readonly credentials: CredentialFormat,
    private readonly options: GrantFlowOptions,
  ) {
    this.limiter = new GrantRateLimiter(options.rateLimit);
    this.peerLimiter = new GrantRateLimiter(options.unauthenticatedRateLimit);
  }

  /**
   * @param peer the caller's network address (host), for the per-peer limit on requests not
   *   yet authenticated.
   */
  async requestGrant(raw: RequestGrantRequest, deadline?: Date, peer = 'unknown'): Promise<RequestGrantResponse> {
    const now = new Date();
    const request = readGrantRequest(raw, this.options, now);
    await this.throttleUnauthenticated(peer, request.task.id, deadline);
    const requested = (actor: string, detail: Record<string, unknown>) =>
      auditEvent(SOURCE, {
        kind: 'grant.requested',
        actor,
        outcome: 'success',
        taskId: request.task.id,
        occurredAt: now,
        detail: { ...describeRequest(request), ...detail },
      });

    let attested: AttestResponse;
    try {
      attested = await this.ports.attest(request.evidence, deadline);
    } catch (error) {
      if (isMayflyError(error, 'ERR_ATTESTATION_FAILED')) {
        await this.refuse([
          requested('unattested', {}),
          auditEvent(SOURCE, {
            kind: 'attestation.failed',
            actor: 'unattested',
            outcome: 'failed',
            taskId: request.task.id,
            detail: { reason: error.message },
          }),
        ], deadline);
      }
      throw error;
    }
    const workload = attested.workload;
    if (!workload) throw new MayflyError('ERR_INTERNAL', 'attestation answered without a workload');
    const actor = workload.spiffeId;
    const attestedEvent = auditEvent(SOURCE, {
      kind: 'attestation.succeeded',
      actor,
      outcome: 'success',
      taskId: request.task.id,
      detail: { attestor: attested.attestor, issuer: attested.issuer, subject: attested.subject, evidenceDigest: attested.evidenceDigest },
    });

    const rate = this.limiter.take(actor);
    if (!rate.allowed) {
      const { perSecond, burst } = this.options.rateLimit;
      if (rate.refusalsToAudit !== undefined) {
        await this.refuse([
          requested(actor, { evidenceDigest: attested.evidenceDigest }),
          attestedEvent,
          auditEvent(SOURCE, {
            kind: 'grant.throttled',
            actor,
            outcome: 'denied',
            taskId: request.task.id,
            detail: { refusedSinceLastRecord: rate.refusalsToAudit, perSecond, burst },
          }),
        ], deadline);
      }
      throw new MayflyError(
        'ERR_RATE_LIMITED',
        `too many grant requests from ${actor} (limit ${perSecond} per second, burst ${burst}); retry in ${rate.retryAfterMs} ms`,
        { retryAfterMs: rate.retryAfterMs },
      );
    }

    const decision = await this.ports.decide(
      {
        workload,
        task: request.task,
        resource: request.resource,
        actions: [...request.actions],
        requestedTtlSeconds: request.requestedTtlSeconds,
        justification: request.justification,
      },
      deadline,
    );
    const decisionDetail = {
      effect: decision.effect === Effect.EFFECT_ALLOW ? 'allow' : 'deny',
      reasons: decision.reasons,
      policyIds: decision.policyIds,
      policyVersion: decision.policyVersion,
    };
    if (decision.effect !== Effect.EFFECT_ALLOW) {
      await this.refuse([
        requested(actor, { evidenceDigest: attested.evidenceDigest }),
        attestedEvent,
        auditEvent(SOURCE, { kind: 'decision.made', actor, outcome: 'denied', taskId: request.task.id, detail: decisionDetail }),
      ], deadline);
      throw new MayflyError('ERR_POLICY_DENIED', `denied: ${decision.reasons.join('; ')}`);
    }

    const issuedAt = new Date();
    const expiresAt = credentialExpiry(issuedAt, request.requestedTtlSeconds, decision.maxTtlSeconds, request.task.deadline);
    const grantId = newId();
    const tokenId = newId();
    const grant: GrantRecord = {
      id: grantId,
      spiffe_id: workload.spiffeId,
      task_id: request.task.id,
      task_kind: request.task.kind,
      task_reference: request.task.reference,
      task_deadline: request.task.deadline ?? null,
      resource: request.resource,
      actions: [...decision.grantedActions],
      status: 'active',
      token_id: tokenId,
      policy_ids: [...decision.policyIds],
      policy_version: decision.policyVersion,
      issued_at: issuedAt,
      expires_at: expiresAt,
      ended_at: null,
      end_reason: null,
    };
    const accessToken = await this.credentials.mint({
      spiffeId: workload.spiffeId,
      audience: request.resource,
      scopes: decision.grantedActions,
      tokenId,
      grantId,
      taskId: request.task.id,
      issuedAt,
      expiresAt,
    });
    const events = [
      requested(actor, { evidenceDigest: attested.evidenceDigest }),
      attestedEvent,
      auditEvent(SOURCE, { kind: 'decision.made', actor, outcome: 'success', grantId, taskId: request.task.id, detail: decisionDetail }),
      auditEvent(SOURCE, {
        kind: 'grant.issued',
        actor,
        outcome: 'success',
        grantId,
        taskId: request.task.id,
        occurredAt: issuedAt,
        detail: {
          tokenId,
          format: this.credentials.name,
          resource: request.resource,
          scopes: decision.grantedActions,
          expiresAt: expiresAt.toISOString(),
          evidenceDigest: attested.evidenceDigest,
          policyVersion: decision.policyVersion,
        },
      }),
    ];
    for (const event of events) event.grantId = grantId;
    await this.ports.commitGrant(grant, events);

    const recorded = await this.ports.deliverAudit(events, deadline);
    if (!recorded && this.options.requireAuditAck) {
      const reason = 'audit service did not confirm the issuance record; token withheld';
      await this.ports.withholdGrant(grantId, reason, [
        auditEvent(SOURCE, { kind: 'grant.withheld', actor: 'mayfly:issuance', outcome: 'failed', grantId, taskId: request.task.id, detail: { reason } }),
      ]);
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `${reason}; nothing was issued, retry shortly`);
    }
    return { grant: toGrantMessage(grant), accessToken };
  }

  /** Refuses a peer that sends more unauthenticated requests than its budget, before any signature check. */
  private async throttleUnauthenticated(peer: string, taskId: string, deadline: Date | undefined): Promise<void> {
    const rate = this.peerLimiter.take(peer);
    if (rate.allowed) return;
    const { perSecond, burst } = this.options.unauthenticatedRateLimit;
    if (rate.refusalsToAudit !== undefined) {
      await this.refuse([
        auditEvent(SOURCE, {
          kind: 'grant.throttled',
          actor: 'unattested',
          outcome: 'denied',
          taskId,
          detail: { peer, refusedSinceLastRecord: rate.refusalsToAudit, perSecond, burst, limit: 'unauthenticated requests per peer' },
        }),
      ], deadline);
    }
    throw new MayflyError(
      'ERR_RATE_LIMITED',
      `too many unauthenticated grant requests from ${peer} (limit ${perSecond} per second, burst ${burst}); retry in ${rate.retryAfterMs} ms`,
      { retryAfterMs: rate.retryAfterMs },
    );
  }

  /** Records a refusal; the caller's error is thrown whether or not audit answers now. */
  private async refuse(events: Parameters<GrantFlowPorts['commitRefusal']>[0], deadline: Date | undefined): Promise<void> {
    await this.ports.commitRefusal(events);
    await this.ports.deliverAudit(events, deadline);
  }
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
