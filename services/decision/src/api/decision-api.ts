import type { Logger } from '@mayfly/core';
import { MayflyError, invalidArgument, newId } from '@mayfly/core';
import { answeringStream, unary } from '@mayfly/grpc';
import { mayflyMetrics, withSpan } from '@mayfly/telemetry';
import { Effect, type DecideError, type DecideOutcome, type DecideRequest, type DecideResponse, type DecisionServiceServer } from '@mayfly/proto';
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
        const effect = countDecision(response);
        span.setAttributes({ 'mayfly.effect': effect, 'mayfly.policy_ids': response.policyIds });
        return response;
      });
    }),
    decideBatch: unary(log, 'mayfly.v1.DecisionService/DecideBatch', async ({ requests }) => ({ outcomes: await decideAll(requests, live, limits, log) })),
    decideStream: answeringStream(log, 'mayfly.v1.DecisionService/DecideStream', async ({ id, requests }) => ({ id, outcomes: await decideAll(requests, live, limits, log) })),
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

/**
 * The outcome of each request, in order (DecideBatch and each DecideStream message): one policy
 * set for all of them, as for one Decide.
 */
async function decideAll(requests: readonly DecideRequest[], live: LivePolicies, limits: DecisionLimits, log: Logger): Promise<DecideOutcome[]> {
  if (requests.length > MAX_DECIDE_BATCH) throw invalidArgument('requests', `holds ${requests.length} requests; at most ${MAX_DECIDE_BATCH} at once`);
  const { engine, setVersion } = live.current();
  mayflyMetrics().decideBatch.record(requests.length);
  const alone = requests.length === 1;
  return withSpan(alone ? 'decide' : 'decide batch', { 'mayfly.policy_version': engine.version, 'mayfly.policy_set_version': setVersion, 'mayfly.batch_size': requests.length }, async (span) =>
    requests.map((request) => {
      try {
        const decision = { ...decide(request, engine, limits), policySetVersion: setVersion };
        const effect = countDecision(decision);
        if (alone) span.setAttributes({ 'mayfly.effect': effect, 'mayfly.policy_ids': decision.policyIds });
        return { decision, error: undefined };
      } catch (error) {
        return { decision: undefined, error: decideError(error, request, log) };
      }
    }),
  );
}

/** Most requests in one DecideBatch: issuance sends up to 64; the bound keeps one call's work small. */
export const MAX_DECIDE_BATCH = 256;

function countDecision(response: DecideResponse): 'allow' | 'needs_approval' | 'deny' {
  const effect = response.effect === Effect.EFFECT_ALLOW ? 'allow' : response.effect === Effect.EFFECT_NEEDS_APPROVAL ? 'needs_approval' : 'deny';
  mayflyMetrics().decisions.add(1, { effect });
  return effect;
}

/** What Decide's trailers would have said about a request it refused; an unexpected error is logged with a reference. */
function decideError(error: unknown, request: DecideRequest, log: Logger): DecideError {
  if (error instanceof MayflyError) return { code: error.code, message: error.message, field: error.field ?? '' };
  const ref = newId();
  log.error({ err: error, rpc: 'DecideBatch', ref, resource: request.resource }, 'unexpected error');
  return { code: 'ERR_INTERNAL', message: `internal error (ref ${ref}); the service log has the details`, field: '' };
}
