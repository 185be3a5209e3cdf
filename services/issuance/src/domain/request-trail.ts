import { type AuditEventInput, auditEvent } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';
import type { ValidGrantRequest } from './grant-request.js';

const SOURCE = 'issuance';

/**
 * The audit events of one request, gathered as it goes. They are committed with the grant (or
 * the refusal), in issuance's own transaction: that commit is the durable audit record.
 */
export class RequestTrail {
  readonly events: AuditEvent[] = [];
  private actor = 'unattested';

  constructor(readonly request: ValidGrantRequest) {}

  /**
   * The caller is identified: it is the actor of what follows, and of the records made before
   * (the request itself) — nothing has left this process yet, all are committed together.
   */
  identify(spiffeId: string): void {
    this.actor = spiffeId;
    for (const event of this.events) event.actor = spiffeId;
  }

  add(input: Omit<AuditEventInput, 'actor' | 'taskId'>): void {
    this.events.push(auditEvent(SOURCE, { ...input, actor: this.actor, taskId: this.request.task.id }));
  }

  /**
   * Takes the request, attestation and decision records out of the trail, for an issued grant's
   * own record to carry (see answeredDetail). Put them back with restore() if that record is not
   * kept after all.
   */
  takeAnswered(): AnsweredRecords {
    const before = [...this.events];
    const taken = before.filter((event) => ANSWERED_KINDS.has(event.kind));
    this.events.splice(0, this.events.length, ...before.filter((event) => !ANSWERED_KINDS.has(event.kind)));
    return { requested: taken.find((event) => event.kind === 'grant.requested'), decided: taken.find((event) => event.kind === 'decision.made'), taken, before };
  }

  /** The records takeAnswered() took, back in their places, as records of their own. */
  restore(answered: AnsweredRecords): void {
    const present = new Set([...this.events, ...answered.taken]);
    const earlier = answered.before.filter((event) => present.has(event));
    const later = this.events.filter((event) => !answered.before.includes(event));
    this.events.splice(0, this.events.length, ...earlier, ...later);
  }
}

/** The request, attestation and decision an issued grant answers, while folded into its record. */
export interface AnsweredRecords {
  readonly requested: AuditEvent | undefined;
  readonly decided: AuditEvent | undefined;
  readonly taken: readonly AuditEvent[];
  /** The trail as it was when they were taken, for restore(). */
  readonly before: readonly AuditEvent[];
}

const ANSWERED_KINDS = new Set(['grant.requested', 'attestation.succeeded', 'decision.made']);

/**
 * What grant.issued adds of the request and the decision it answers, so that it stands for them:
 * when it was asked and for how long, the trace it belongs to, and the decision's effect, reasons
 * and policy set. (Task, resource, scopes, justification, policies and policy version are in
 * grant.issued already, and so is what attestation proved: identityDetail.) One record per issued
 * grant instead of three or four: each record is an outbox row, a delivery, an audit row and a
 * chain link — most of what the audit trail costs a grant. A request refused or held for approval
 * keeps grant.requested, attestation.succeeded and decision.made as records of their own.
 */
export function answeredDetail({ requested, decided }: AnsweredRecords): Record<string, unknown> {
  const asked = requested?.detail ?? {};
  const decision = decided?.detail ?? {};
  return {
    ...(requested?.occurredAt ? { requestedAt: requested.occurredAt.toISOString() } : {}),
    ...(asked['requestedTtlSeconds'] !== undefined ? { requestedTtlSeconds: asked['requestedTtlSeconds'] } : {}),
    ...(asked['traceId'] !== undefined ? { traceId: asked['traceId'] } : {}),
    ...(decision['effect'] !== undefined ? { effect: decision['effect'] } : {}),
    ...(decision['reasons'] !== undefined ? { reasons: decision['reasons'] } : {}),
    ...(decision['policySetVersion'] !== undefined ? { policySetVersion: decision['policySetVersion'] } : {}),
    ...(decision['breakGlass'] === true ? { breakGlass: true } : {}),
  };
}
