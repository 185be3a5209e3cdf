import { newId } from '@mayfly/core';
import { AuditEvent, AuditOutcome } from '@mayfly/proto';
import { AUDIT_LIMITS, boundDetail, boundText } from './bounded-detail.js';

export type Outcome = 'success' | 'denied' | 'failed';

const OUTCOMES: Record<Outcome, AuditOutcome> = {
  success: AuditOutcome.AUDIT_OUTCOME_SUCCESS,
  denied: AuditOutcome.AUDIT_OUTCOME_DENIED,
  failed: AuditOutcome.AUDIT_OUTCOME_FAILED,
};

export interface AuditEventInput {
  readonly kind: string;
  readonly actor: string;
  readonly outcome: Outcome;
  readonly grantId?: string | undefined;
  readonly taskId?: string | undefined;
  /** Facts about the event. Never a token, key or raw evidence: use digests and ids. */
  readonly detail?: Record<string, unknown>;
  readonly occurredAt?: Date;
}

/**
 * Builds an audit event with a fresh id (which makes redelivery idempotent). Actor, task id and
 * detail are bounded here (see AUDIT_LIMITS): an event never grows past what the audit service
 * stores, whatever text a caller managed to put in it.
 */
export function auditEvent(source: string, input: AuditEventInput): AuditEvent {
  return AuditEvent.fromPartial({
    id: newId(),
    occurredAt: input.occurredAt ?? new Date(),
    kind: input.kind,
    actor: boundText(input.actor, AUDIT_LIMITS.actorMaxLength),
    source,
    grantId: input.grantId ?? '',
    taskId: boundText(input.taskId ?? '', 128),
    outcome: OUTCOMES[input.outcome],
    detail: boundDetail(input.detail ?? {}),
  });
}
