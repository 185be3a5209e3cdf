import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { mayflyMetrics, withSpan } from '@mayfly/telemetry';
import { Effect, type DecisionServiceServer } from '@mayfly/proto';
import { decide, type DecisionLimits } from '../domain/decide.js';
import type { PolicyEngine } from '../domain/policy-engine.js';

export function decisionApi(engine: PolicyEngine, limits: DecisionLimits, log: Logger): DecisionServiceServer {
  return {
    decide: unary(log, 'mayfly.v1.DecisionService/Decide', async (request) =>
      withSpan('decide', { 'mayfly.policy_version': engine.version }, async (span) => {
        const response = decide(request, engine, limits);
        const effect = response.effect === Effect.EFFECT_ALLOW ? 'allow' : 'deny';
        span.setAttributes({ 'mayfly.effect': effect, 'mayfly.policy_ids': response.policyIds });
        mayflyMetrics().decisions.add(1, { effect });
        return response;
      }),
    ),
  };
}
