import { checkCeiling } from '@mayfly/core';
import type { ActionExplanation, DecideRequest, ExplainResponse } from '@mayfly/proto';
import { decideWith, policyAnswers, type DecisionLimits } from './decide.js';
import type { PolicyEngine } from './policy-engine.js';

/**
 * A dry run: what decide() answers for the request now — the same code, over the same policy
 * answers — and for each action the ceiling's say and the policies' — asked even where the
 * ceiling already refuses, so that an operator sees everything that stands in the way. Nothing is
 * recorded and nothing is issued.
 */
export function explain(request: DecideRequest, engine: PolicyEngine, limits: DecisionLimits, now = new Date()): ExplainResponse {
  const answerFor = policyAnswers(request, engine, now);
  const decision = decideWith(request, engine, limits, answerFor);
  const { within } = checkCeiling(request.workload!.ceiling, request.resource, request.actions);
  const actions: ActionExplanation[] = request.actions.map((action) => {
    const answer = answerFor(action);
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
