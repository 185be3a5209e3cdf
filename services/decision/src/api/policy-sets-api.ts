import { LIMITS, MayflyError, actorOf, invalidArgument, sanitizeText, type Logger } from '@mayfly/core';
import type { PolicySetRecord } from '@mayfly/model';
import { unary } from '@mayfly/grpc';
import type { DecisionServiceServer, PolicySetVersion } from '@mayfly/proto';
import type { LivePolicies } from '../adapters/live-policies.js';
import { checkPolicyFiles, type PolicyFile } from '../adapters/policy-files.js';
import type { PostgresPolicyStore } from '../adapters/postgres-policy-store.js';

function toVersionMessage(row: PolicySetRecord): PolicySetVersion {
  return {
    version: row.version,
    digest: row.digest,
    createdBy: row.created_by,
    createdAt: row.created_at,
    reason: row.reason,
    rolledBackFrom: row.rolled_back_from ?? 0,
    files: row.files.map((file) => file.name).sort(),
  };
}

/** The problems of a set as one refusal an operator can act on: FILE:LINE: policy: message, each. */
function refusal(problems: readonly { file: string; line: number; policyId: string; message: string }[]): MayflyError {
  // Cedar reports a context problem once per action; one line per place and problem is enough.
  const lines = new Map<string, string[]>();
  for (const problem of problems) {
    const action = /for Mayfly::Action::"([^"]+)"/.exec(problem.message)?.[1];
    const line = `${problem.file}:${problem.line}: ${problem.policyId ? `${problem.policyId}: ` : ''}${problem.message.replace(/ for Mayfly::Action::"[^"]+"/, '')}`;
    lines.set(line, [...(lines.get(line) ?? []), ...(action ? [action] : [])]);
  }
  const text = [...lines].map(([line, actions]) => (actions.length > 1 ? `${line} (actions ${actions.sort().join(', ')})` : line));
  return new MayflyError('ERR_INVALID_ARGUMENT', `policy set refused, nothing stored:\n${text.join('\n')}`, { field: 'files' });
}

/**
 * DecisionService's policy administration (operators): push a checked set as the next version,
 * list and read versions, roll back to one. The replica that stores a version loads it at once;
 * the others hear of it by NOTIFY.
 */
export function policySetsApi(
  store: PostgresPolicyStore,
  live: LivePolicies,
  log: Logger,
): Pick<DecisionServiceServer, 'pushPolicies' | 'listPolicyVersions' | 'getPolicyVersion' | 'rollbackPolicies'> {
  const store_ = async (files: readonly PolicyFile[], actor: string, reason: string, rolledBackFrom?: number) => {
    const { version, problems } = checkPolicyFiles(files);
    if (problems.length > 0) throw refusal(problems);
    const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name)).map((file) => ({ name: file.name, text: file.text }));
    const stored = await store.push({ files: sorted, digest: version, actor, reason, ...(rolledBackFrom ? { rolledBackFrom } : {}) });
    await live.refresh();
    log.info({ policySetVersion: stored.row.version, digest: stored.row.digest, actor, created: stored.created }, stored.created ? 'policy set stored' : 'policy set unchanged');
    return stored;
  };
  return {
    pushPolicies: unary(log, 'mayfly.v1.DecisionService/PushPolicies', async (request, call) => {
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const { row, created } = await store_(request.files, actorOf(call.caller), reason);
      return { version: toVersionMessage(row), unchanged: !created };
    }),

    listPolicyVersions: unary(log, 'mayfly.v1.DecisionService/ListPolicyVersions', async (request) => ({
      versions: (await store.list(Math.min(request.limit || 20, 200))).map(toVersionMessage),
    })),

    getPolicyVersion: unary(log, 'mayfly.v1.DecisionService/GetPolicyVersion', async (request) => {
      const row = await store.find(request.version);
      if (!row) throw new MayflyError('ERR_NOT_FOUND', request.version ? `no policy set version ${request.version}` : 'no policy set is stored');
      return { version: toVersionMessage(row), files: row.files };
    }),

    rollbackPolicies: unary(log, 'mayfly.v1.DecisionService/RollbackPolicies', async (request, call) => {
      if (request.version === 0) throw invalidArgument('version', 'is required: the version to make active again');
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const target = await store.find(request.version);
      if (!target) throw new MayflyError('ERR_NOT_FOUND', `no policy set version ${request.version}: list them with mayfly policy versions`);
      // Checked again: a set stored under an older schema or engine must still load before it is made active.
      const { row } = await store_(target.files, actorOf(call.caller), reason, target.version);
      return { version: toVersionMessage(row) };
    }),
  };
}
