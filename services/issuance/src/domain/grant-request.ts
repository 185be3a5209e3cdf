import {
  LIMITS,
  MayflyError,
  invalidArgument,
  presentedEvidence,
  validateActions,
  validateOptionalText,
  validateResource,
  validateTaskId,
} from '@mayfly/core';
import type { Evidence, RequestGrantRequest, Task } from '@mayfly/proto';

export interface TtlPolicy {
  /** Lifetime when the request names none. */
  readonly defaultTtlSeconds: number;
  /** Longest lifetime a request may ask for. */
  readonly maxRequestTtlSeconds: number;
}

export interface ValidGrantRequest {
  /** Absent when the workload asks within an attested session (its certificate says who it is). */
  readonly evidence: Evidence | undefined;
  readonly task: Task;
  readonly resource: string;
  readonly actions: readonly string[];
  readonly requestedTtlSeconds: number;
  readonly justification: string;
  /** Set when the client made the request idempotent. */
  readonly idempotencyKey: string | undefined;
  /** Liveness the client asked for (0: none). */
  readonly heartbeatIntervalSeconds: number;
  /** One use only: consumed by the first edge that accepts it. */
  readonly singleUse: boolean;
  /** Break-glass: at once, without approval, if a @break_glass policy allows it. */
  readonly breakGlass: boolean;
}

/** Checks a RequestGrant call before any other service is asked anything. */
export function readGrantRequest(request: RequestGrantRequest, ttl: TtlPolicy, now: Date): ValidGrantRequest {
  const task = request.task;
  if (!task) throw invalidArgument('task', 'is required');
  validateTaskId('task.id', task.id);
  if (task.kind.length === 0) throw invalidArgument('task.kind', 'is required (e.g. "ci-job", "deploy", "agent-step")');
  validateOptionalText('task.kind', task.kind, LIMITS.taskKindMaxLength);
  validateOptionalText('task.reference', task.reference, LIMITS.taskReferenceMaxLength);
  if (task.deadline && task.deadline.getTime() <= now.getTime()) {
    throw new MayflyError('ERR_TASK_DEADLINE_PASSED', `task.deadline ${task.deadline.toISOString()} has already passed`);
  }
  validateResource('resource', request.resource);
  validateActions('actions', request.actions);
  validateOptionalText('justification', request.justification, LIMITS.justificationMaxLength);
  if (request.idempotencyKey !== '' && !/^[A-Za-z0-9._:-]{1,128}$/.test(request.idempotencyKey)) {
    throw invalidArgument('idempotency_key', 'must be 1 to 128 of A-Z a-z 0-9 . _ : - (a UUID will do)');
  }
  if (request.heartbeatIntervalSeconds > 86_400) throw invalidArgument('heartbeat_interval_seconds', 'must be at most 86400 (0 asks for none)');
  if (request.breakGlass && (request.justification.trim() === '' || task.reference.trim() === '')) {
    throw invalidArgument(request.justification.trim() === '' ? 'justification' : 'task.reference', 'is required for break-glass: say why, and name the incident in task.reference');
  }
  if (request.requestedTtlSeconds > ttl.maxRequestTtlSeconds) {
    throw invalidArgument('requested_ttl_seconds', `must be at most ${ttl.maxRequestTtlSeconds} (0 asks for the default, ${ttl.defaultTtlSeconds})`);
  }
  return {
    evidence: presentedEvidence(request.evidence) ? request.evidence : undefined,
    task,
    resource: request.resource,
    actions: request.actions,
    requestedTtlSeconds: request.requestedTtlSeconds || ttl.defaultTtlSeconds,
    justification: request.justification,
    idempotencyKey: request.idempotencyKey || undefined,
    heartbeatIntervalSeconds: request.heartbeatIntervalSeconds,
    singleUse: request.singleUse,
    breakGlass: request.breakGlass,
  };
}

/**
 * The credential's expiry: the earliest of what was asked, what policy allows and the task's
 * deadline. Whole seconds, because JWT times are whole seconds; never in the past.
 */
export function credentialExpiry(
  issuedAt: Date,
  requestedTtlSeconds: number,
  policyMaxTtlSeconds: number,
  taskDeadline: Date | undefined,
): Date {
  const issuedAtSeconds = Math.floor(issuedAt.getTime() / 1000);
  let expSeconds = issuedAtSeconds + Math.min(requestedTtlSeconds, policyMaxTtlSeconds);
  if (taskDeadline) expSeconds = Math.min(expSeconds, Math.floor(taskDeadline.getTime() / 1000));
  if (expSeconds <= issuedAtSeconds) {
    throw new MayflyError('ERR_TASK_DEADLINE_PASSED', 'task.deadline leaves less than one second for the credential');
  }
  return new Date(expSeconds * 1000);
}
