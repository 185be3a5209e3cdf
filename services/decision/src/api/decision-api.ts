import type { Logger } from '@mayfly/core';
import { invalidArgument } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { mayflyMetrics, withSpan } from '@mayfly/telemetry';
import { Effect, type DecisionServiceServer } from '@mayfly/proto';
import { decide, type DecisionLimits } from '../domain/decide.js';
import { explain } from '../domain/explain.js';
import type { LivePolicies } from '../adapters/live-policies.js';
import { checkPolicyFiles } from '../adapters/policy-files.js';
import type { PostgresPolicyStore } from '../adapters/postgres-policy-store.js';
import { policySetsApi } from './policy-sets-api.js';

/**
 * DecisionService. Each request takes the active policy set once (a push landing meanwhile
 * applies from the next request, never halfway through one) and names its version.
 */
export function decisionApi(live: LivePolicies, store: PostgresPolicyStore, limits: DecisionLimits, log: Logger): DecisionServiceServer {
  return {
    ...policySetsApi(store, live, log),
    decide: unary(log, 'mayfly.v1.DecisionService/Decide', async (request) => {
      const { engine, setVersion } = live.current();
      return withSpan('decide', { 'mayfly.policy_version': engine.version, 'mayfly.policy_set_version': setVersion }, async (span) => {
        const response = { ...decide(request, engine, limits), policySetVersion: setVersion };
        const effect = response.effect === Effect.EFFECT_ALLOW ? 'allow' : response.effect === Effect.EFFECT_NEEDS_APPROVAL ? 'needs_approval' : 'deny';
        span.setAttributes({ 'mayfly.effect': effect, 'mayfly.policy_ids': response.policyIds });
        mayflyMetrics().decisions.add(1, { effect });
        return response;
      });
    }),
    validatePolicies: unary(log, 'mayfly.v1.DecisionService/ValidatePolicies', async (request) => {
      const { version, problems } = checkPolicyFiles(request.files);
      return { policyVersion: version, problems };
    }),
    explain: unary(log, 'mayfly.v1.DecisionService/Explain', async (request) => {
      if (!request.request) throw invalidArgument('request', 'is required: the request to explain');
      const { engine, setVersion } = live.current();
      const answer = explain(request.request, engine, limits);
      return { ...answer, decision: answer.decision ? { ...answer.decision, policySetVersion: setVersion } : undefined };
    }),
  };
}
