import { checkCeiling } from '@mayfly/core';
import type { ActionExplanation, DecideRequest, ExplainResponse } from '@mayfly/proto';
import { decide, type DecisionLimits } from './decide.js';
import type { PolicyEngine } from './policy-engine.js';

/**
 * A dry run: what decide() would answer for the request now, and for each action the ceiling's
 * say and the policies' — asked even where the ceiling already refuses, so that an operator sees
 * everything that stands in the way. Nothing is recorded and nothing is issued.
 */
export function explain(request: DecideRequest, engine: PolicyEngine, limits: DecisionLimits, now = new Date()): ExplainResponse {
  const decision = decide(request, engine, limits, now);
  const workload = request.workload!;
  const { within } = checkCeiling(workload.ceiling, request.resource, request.actions);
  const actions: ActionExplanation[] = request.actions.map((action) => {
    const answer = engine.evaluate({
      workload,
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
    return {
      action,
      withinCeiling: within.includes(action),
      allowed: answer.allowed,
      policyIds: [...answer.policyIds],
      errors: [...answer.errors],
      approvalRule: answer.approvalRules[0]?.name ?? '',
      breakGlass: answer.breakGlass,
    };
  });
  return { decision, actions };
}
