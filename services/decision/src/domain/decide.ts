import {
  LIMITS,
  checkCeiling,
  invalidArgument,
  validateActions,
  validateOptionalText,
  validateResource,
  validateSpiffeId,
} from '@mayfly/core';
import { Effect, type DecideRequest, type DecideResponse } from '@mayfly/proto';
import { strictestRule, type ApprovalRule } from './approval-rules.js';
import type { PolicyAnswer, PolicyEngine } from './policy-engine.js';

export interface DecisionLimits {
  /** No grant lives longer than this, whatever the policy says. */
  readonly maxTtlSeconds: number;
}

/**
 * The decision: deny unless every requested action is within the workload's ceiling and
 * allowed by policy. All-or-nothing, so that a workload never receives less than it asked for
 * without being told; granted actions are therefore exactly the requested ones. An allow waits
 * for people (NEEDS_APPROVAL) when an allowing policy names an approval rule — unless the request
 * is break-glass and a @break_glass policy allows it, which is the only way break-glass is allowed.
 */
export function decide(request: DecideRequest, engine: PolicyEngine, limits: DecisionLimits, now = new Date()): DecideResponse {
  return decideWith(request, engine, limits, policyAnswers(request, engine, now));
}

/** The policies' answer per action, each asked at most once (decide and explain share them). */
export type PolicyAnswers = (action: string) => PolicyAnswer;

/** Asks the engine about one action of the request, remembering the answer. */
export function policyAnswers(request: DecideRequest, engine: PolicyEngine, now: Date): PolicyAnswers {
  const answers = new Map<string, PolicyAnswer>();
  return (action) => {
    let answer = answers.get(action);
    if (!answer) {
      answer = engine.evaluate({
        workload: request.workload!,
        task: request.task!,
        resource: request.resource,
        action,
        requestedTtlSeconds: request.requestedTtlSeconds,
        justification: request.justification,
        delegation: request.delegation,
        evidence: request.evidence,
        breakGlass: request.breakGlass,
        now,
      });
      answers.set(action, answer);
    }
    return answer;
  };
}

/** decide() over answers already asked for (explain asks for every action, decide only as needed). */
export function decideWith(request: DecideRequest, engine: PolicyEngine, limits: DecisionLimits, answerFor: PolicyAnswers): DecideResponse {
  const workload = request.workload;
  const task = request.task;
  if (!workload) throw invalidArgument('workload', 'is required');
  if (!task) throw invalidArgument('task', 'is required');
  validateSpiffeId('workload.spiffe_id', workload.spiffeId);
  validateResource('resource', request.resource);
  validateActions('actions', request.actions);
  validateOptionalText('justification', request.justification, LIMITS.justificationMaxLength);

  const deny = (reasons: string[], policyIds: readonly string[] = []): DecideResponse => ({
    effect: Effect.EFFECT_DENY,
    grantedActions: [],
    maxTtlSeconds: 0,
    maxGrantSeconds: 0,
    heartbeatSeconds: 0,
    policyIds: [...policyIds],
    reasons,
    policyVersion: engine.version,
    // The stored version number is the service's to add (the engine knows only its digest).
    policySetVersion: 0,
    approval: undefined,
    breakGlass: false,
    breakGlassReviewerGroups: [],
  });

  // Break-glass is a per-workload door, shut unless an operator registered the workload for it.
  if (request.breakGlass && !workload.breakGlassAllowed) {
    return deny([`${workload.spiffeId} may not use break-glass: its registry entry does not allow it (mayfly workloads update ${workload.spiffeId} --break-glass-allowed true)`]);
  }

  const { outside } = checkCeiling(workload.ceiling, request.resource, request.actions);
  if (outside.length > 0) {
    return deny([`${outside.map((a) => `"${a}"`).join(', ')} on ${request.resource} exceeds the entitlement ceiling of ${workload.spiffeId}`]);
  }

  const reasons: string[] = [];
  const denyingPolicies = new Set<string>();
  const allowingPolicies = new Set<string>();
  let maxTtlSeconds = limits.maxTtlSeconds;
  let maxGrantSeconds: number | undefined;
  let heartbeatSeconds: number | undefined;
  const approvalRules: ApprovalRule[] = [];
  const reviewerGroups = new Set<string>();
  for (const action of request.actions) {
    const answer = answerFor(action);
    if (answer.allowed && request.breakGlass && !answer.breakGlass) {
      // Break-glass skips approval, so only a policy written for it may allow it.
      reasons.push(`break-glass "${action}" on ${request.resource} is allowed only by a @break_glass policy, and none permits it for ${workload.spiffeId}`);
      continue;
    }
    if (!answer.allowed) {
      answer.policyIds.forEach((id) => denyingPolicies.add(id));
      reasons.push(refusalReason(action, request.resource, workload.spiffeId, answer));
      continue;
    }
    answer.policyIds.forEach((id) => allowingPolicies.add(id));
    if (answer.maxTtlSeconds !== undefined) maxTtlSeconds = Math.min(maxTtlSeconds, answer.maxTtlSeconds);
    if (answer.maxGrantSeconds !== undefined) maxGrantSeconds = Math.min(maxGrantSeconds ?? Infinity, answer.maxGrantSeconds);
    if (answer.heartbeatSeconds !== undefined) heartbeatSeconds = Math.min(heartbeatSeconds ?? Infinity, answer.heartbeatSeconds);
    approvalRules.push(...answer.approvalRules);
    if (request.breakGlass) answer.breakGlassReviewerGroups.forEach((group) => reviewerGroups.add(group));
  }
  if (reasons.length > 0) return deny(reasons, [...denyingPolicies]);

  // Any allowing policy that asks for approval makes the whole request wait for it (the strictest rule).
  const rule = request.breakGlass ? undefined : strictestRule(approvalRules);
  return {
    effect: rule ? Effect.EFFECT_NEEDS_APPROVAL : Effect.EFFECT_ALLOW,
    grantedActions: [...request.actions],
    maxTtlSeconds,
    maxGrantSeconds: maxGrantSeconds ?? 0,
    heartbeatSeconds: heartbeatSeconds ?? 0,
    policyIds: [...allowingPolicies],
    reasons: [
      rule
        ? `permitted by ${[...allowingPolicies].join(', ')} once approved as rule "${rule.name}" says (${rule.threshold} of ${rule.approverGroups.join(', ')})`
        : `permitted by ${[...allowingPolicies].join(', ')}${request.breakGlass ? ' (break-glass)' : ''}`,
    ],
    policyVersion: engine.version,
    // The stored version number is the service's to add (the engine knows only its digest).
    policySetVersion: 0,
    approval: rule
      ? { rule: rule.name, approverGroups: [...rule.approverGroups], threshold: rule.threshold, pendingSeconds: rule.pendingSeconds, approvalValidSeconds: rule.approvalValidSeconds }
      : undefined,
    breakGlass: request.breakGlass,
    breakGlassReviewerGroups: [...reviewerGroups],
  };
}

/** Why one action was refused, naming the policies that forbade it or failed to evaluate. */
function refusalReason(action: string, resource: string, spiffeId: string, answer: PolicyAnswer): string {
  if (answer.errors.length > 0) {
    return `"${action}" on ${resource} is denied because a policy failed to evaluate (${answer.errors.join('; ')})`;
  }
  if (answer.policyIds.length > 0) return `"${action}" on ${resource} is forbidden by ${answer.policyIds.join(', ')}`;
  return `no policy permits "${action}" on ${resource} for ${spiffeId}`;
}
