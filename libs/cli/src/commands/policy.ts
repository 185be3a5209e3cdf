import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { callUnary } from '@mayfly/grpc';
import { DecideRequest, DecisionServiceClient, Effect, RegistryServiceClient, effectToJSON } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { parseClaimPairs } from './binding-rules.js';
import { asOperator } from '../operator-client.js';
import { wholeNumber } from '../flags.js';

/** The files of a policy directory that make up a set: *.cedar, schema.cedarschema, approval-rules.json. */
export function readPolicyDir(dir: string): { name: string; text: string }[] {
  if (!existsSync(dir)) throw new Error(`policy directory ${dir} does not exist (give the directory that holds the *.cedar files)`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a policy directory (give the directory that holds the *.cedar files)`);
  const names = readdirSync(dir).filter((name) => name.endsWith('.cedar') || name === 'schema.cedarschema' || name === 'approval-rules.json').sort();
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

const withDecision = <T>(context: CommandContext, call: (client: DecisionServiceClient) => Promise<T>): Promise<T> => asOperator(context, DecisionServiceClient, 'decision', call);

/**
 * `mayfly policy validate DIR`: the decision service checks the directory's *.cedar files,
 * schema.cedarschema and approval-rules.json as it would load them; every problem is printed as
 * FILE:LINE with the policy and what is wrong, and the exit code is 1 if there is any.
 */
export async function validate(context: CommandContext): Promise<void> {
  const dir = context.args[0];
  if (!dir) throw new Error('usage: mayfly policy validate DIR');
  const files = readPolicyDir(dir);
  const response = await withDecision(context, (client) => callUnary(client, client.validatePolicies, { files }, { target: 'decision' }));
  if (response.problems.length === 0) context.out.say(`${dir}: ${files.length} files valid; policy version ${response.policyVersion}`);
  else for (const problem of response.problems) context.out.say(`${join(dir, problem.file)}:${problem.line}: ${problem.policyId ? `${problem.policyId}: ` : ''}${problem.message}`);
  context.out.document(response);
  if (response.problems.length > 0) process.exitCode = 1;
}

/**
 * `mayfly policy explain <spiffe-id> --resource R --actions A[,A] [--task-kind K] [--reference REF]
 * [--justification J] [--ttl S] [--break-glass] [--claim NAME=VALUE …]`: what policy would decide for
 * the registered workload now — with the evidence claims given (context.evidence.claims) — per
 * action, and the approval rule that would apply. Issues nothing.
 */
export async function explain(context: CommandContext): Promise<void> {
  const spiffeId = context.args[0];
  const f = context.flags;
  if (!spiffeId || !f.resource || !f.actions) throw new Error('usage: mayfly policy explain <spiffe-id> --resource R --actions A[,A] [--task-kind K] [--reference REF] [--justification J] [--ttl S] [--break-glass] [--claim NAME=VALUE …]');
  const workload = await asOperator(context, RegistryServiceClient, 'attestation', async (registry) => (await callUnary(registry, registry.getWorkload, { spiffeId }, { target: 'attestation' })).workload?.workload);
  const request = DecideRequest.fromPartial({
    workload,
    task: { id: f.task ?? 'explain', kind: f.taskKind ?? 'ci-job', reference: f.reference ?? '' },
    resource: f.resource,
    actions: f.actions.split(',').filter(Boolean),
    requestedTtlSeconds: wholeNumber(f.ttl, '--ttl', { min: 1, max: 86_400 }, 300),
    justification: f.justification ?? '',
    breakGlass: f.breakGlass,
    evidence: f.claim.length > 0 ? { attestor: 'explain', issuer: 'explain', claims: parseClaimPairs(f.claim, '--claim') } : undefined,
  });
  const response = await withDecision(context, (client) => callUnary(client, client.explain, { request }, { target: 'decision' }));
  const decision = response.decision!;
  context.out.say(`${effectToJSON(decision.effect).replace('EFFECT_', '')}: ${decision.reasons.join('; ')}`);
  if (decision.approval) context.out.say(`approval: rule ${decision.approval.rule}, ${decision.approval.threshold} of ${decision.approval.approverGroups.join(', ')}`);
  context.out.table(
    response.actions.map((action) => ({
      action: action.action,
      ceiling: action.withinCeiling ? 'within' : 'OUTSIDE',
      policy: action.allowed ? 'allowed' : 'refused',
      policies: action.policyIds.join(', '),
      approval: action.approvalRule,
      errors: action.errors.join('; '),
    })),
  );
  // A denied request gets no token, so it has no lifetime to report ("max token 0 s" read as a bug).
  const lifetime = decision.effect === Effect.EFFECT_DENY
    ? 'no token: denied'
    : `max token ${decision.maxTtlSeconds} s${decision.maxGrantSeconds ? `, renewable for ${decision.maxGrantSeconds} s` : ''}`;
  context.out.say(`policy set version ${decision.policySetVersion} (${decision.policyVersion.slice(0, 16)}); ${lifetime}`);
  context.out.document(response);
}
