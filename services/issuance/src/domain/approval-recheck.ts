import { type PendingApproval } from '@mayfly/model';
import { checkCeiling } from '@mayfly/core';
import { Effect, type DecideRequest, type DecideResponse, type Workload } from '@mayfly/proto';
import { taskOf } from './grant-steps.js';

/** What an approval looks at again, as it is now. */
export interface RecheckPorts {
  /** The workload as registered now (undefined: gone), and when it was disabled, if it is. */
  findWorkload(spiffeId: string): Promise<{ workload: Workload; disabledAt: Date | undefined } | undefined>;
  /** Why the session certificate is no longer accepted (revoked, cut off, not issued), or undefined. */
  sessionRefusal(spiffeId: string, serial: string): Promise<string | undefined>;
  /** The newest revocation of everything the workload holds (a watermark) made after `since`, if any. */
  workloadRevokedSince(spiffeId: string, since: Date): Promise<{ revokedAt: Date; reason: string } | undefined>;
  /** The decision service, on the current policy set. */
  decide(request: DecideRequest): Promise<DecideResponse>;
}

/**
 * At approval, before a token exists: does the request still hold? While it waited an operator
 * may have cut the ceiling, pushed a stricter policy set, disabled or revoked the workload, or
 * revoked the session certificate the token would be bound to. Approvals are about the request
 * as it was asked; what may be issued is decided now. Returns why not, or undefined.
 */
export async function whyRequestNoLongerHolds(current: PendingApproval, ports: RecheckPorts): Promise<string | undefined> {
  const { grant, request } = current;
  const registered = await ports.findWorkload(grant.spiffe_id);
  if (!registered) return `workload ${grant.spiffe_id} is no longer registered`;
  if (registered.disabledAt) return `workload ${grant.spiffe_id} was disabled at ${registered.disabledAt.toISOString()}`;
  const outside = checkCeiling(registered.workload.ceiling, grant.resource, grant.actions).outside;
  if (outside.length > 0) return `the workload's ceiling no longer allows ${outside.join(', ')} on ${grant.resource}`;
  const revoked = await ports.workloadRevokedSince(grant.spiffe_id, request.created_at);
  if (revoked) return `everything of ${grant.spiffe_id} was revoked at ${revoked.revokedAt.toISOString()} (${revoked.reason}), after the request`;
  if (request.certificate_thumbprint !== null) {
    if (request.certificate_serial === null) return 'the session certificate the token would be bound to cannot be checked (the request predates migration 022): request again';
    const refusal = await ports.sessionRefusal(grant.spiffe_id, request.certificate_serial);
    if (refusal) return `the session certificate the token would be bound to is no longer accepted: ${refusal}`;
  }
  const decision = await ports.decide({
    workload: registered.workload,
    task: taskOf(grant),
    resource: grant.resource,
    actions: [...grant.actions],
    requestedTtlSeconds: request.requested_ttl_seconds,
    justification: request.justification,
    delegation: undefined,
    breakGlass: false,
    evidence: request.evidence ?? { attestor: '', issuer: '', claims: {} },
  });
  if (decision.effect !== Effect.EFFECT_ALLOW && decision.effect !== Effect.EFFECT_NEEDS_APPROVAL) {
    return `the current policy set (version ${decision.policySetVersion || decision.policyVersion}) no longer allows it: ${decision.reasons.join('; ')}`;
  }
  const dropped = grant.actions.filter((action) => !decision.grantedActions.includes(action));
  if (dropped.length > 0) return `the current policy set (version ${decision.policySetVersion || decision.policyVersion}) no longer allows ${dropped.join(', ')}`;
  return undefined;
}
