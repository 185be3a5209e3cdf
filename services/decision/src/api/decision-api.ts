import { invalidArgument, type Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { mayflyMetrics, withSpan } from '@mayfly/telemetry';
import { Effect, type DecisionServiceServer } from '@mayfly/proto';
import { decide, type DecisionLimits } from '../domain/decide.js';
import { explain } from '../domain/explain.js';
import { APPROVAL_RULES_FILE } from '../domain/approval-rules.js';
import { CedarPolicyEngine, SCHEMA_FILE } from '../adapters/cedar-policy-engine.js';
import type { PolicyEngine } from '../domain/policy-engine.js';

export function decisionApi(engine: PolicyEngine, limits: DecisionLimits, log: Logger): DecisionServiceServer {
  return {
    decide: unary(log, 'mayfly.v1.DecisionService/Decide', async (request) =>
      withSpan('decide', { 'mayfly.policy_version': engine.version }, async (span) => {
        const response = decide(request, engine, limits);
        const effect = response.effect === Effect.EFFECT_ALLOW ? 'allow' : response.effect === Effect.EFFECT_NEEDS_APPROVAL ? 'needs_approval' : 'deny';
        span.setAttributes({ 'mayfly.effect': effect, 'mayfly.policy_ids': response.policyIds });
        mayflyMetrics().decisions.add(1, { effect });
        return response;
      }),
    ),
    validatePolicies: unary(log, 'mayfly.v1.DecisionService/ValidatePolicies', async (request) => {
      const byName = new Map(request.files.map((file) => [file.name, file.text]));
      if (request.files.length > 200 || request.files.some((file) => file.text.length > 1_000_000)) throw invalidArgument('files', 'at most 200 files of at most 1 MB each');
      const schema = byName.get(SCHEMA_FILE);
      if (schema === undefined) return { problems: [{ file: SCHEMA_FILE, line: 1, policyId: '', message: `missing: every policy directory holds the ${SCHEMA_FILE} its policies are checked against` }], policyVersion: '' };
      const policies = request.files.filter((file) => file.name.endsWith('.cedar')).map((file) => ({ name: file.name.replace(/\.cedar$/, ''), text: file.text }));
      if (policies.length === 0) return { problems: [{ file: '*.cedar', line: 1, policyId: '', message: 'no *.cedar policy files' }], policyVersion: '' };
      const { version, problems } = CedarPolicyEngine.check(policies, schema, byName.get(APPROVAL_RULES_FILE));
      return { policyVersion: problems.length === 0 ? version : '', problems: problems.map((problem) => ({ ...problem, file: problem.file.includes('.') ? problem.file : `${problem.file}.cedar` })) };
    }),
    explain: unary(log, 'mayfly.v1.DecisionService/Explain', async (request) => {
      if (!request.request) throw invalidArgument('request', 'is required: the request to explain');
      return explain(request.request, engine, limits);
    }),
  };
}
