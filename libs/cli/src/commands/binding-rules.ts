import { callUnary } from '@mayfly/grpc';
import type { BindingRule } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { withRegistry } from './workloads.js';

/** "NAME=VALUE" flags → { NAME: VALUE }; a name given twice is a mistake, not an override. */
export function parseClaimPairs(pairs: readonly string[], flag: string): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`${flag} ${pair}: write NAME=VALUE`);
    const name = pair.slice(0, at);
    if (name in claims) throw new Error(`${flag}: ${name} is given twice`);
    claims[name] = pair.slice(at + 1);
  }
  return claims;
}

const ruleRow = (rule: BindingRule): Record<string, string> => ({
  id: rule.id,
  issuer: rule.issuer,
  match: Object.entries(rule.match).map(([name, value]) => `${name}=${value}`).join(' '),
  workload: rule.spiffeIdTemplate,
  description: rule.description,
});

/** `mayfly binding-rules create <issuer> --template T [--match NAME=VALUE …] [--description D]`. */
export async function create(context: CommandContext): Promise<void> {
  const issuer = context.args[0];
  const f = context.flags;
  if (!issuer || !f.template) throw new Error('usage: mayfly binding-rules create <issuer> --template SPIFFE-ID-TEMPLATE [--match NAME=VALUE …] [--description D] [--reason T]');
  const rule = { id: '', issuer, match: parseClaimPairs(f.match, '--match'), spiffeIdTemplate: f.template, description: f.description ?? '', createdAt: undefined };
  const response = await withRegistry(context, (client) => callUnary(client, client.createBindingRule, { rule, reason: f.reason ?? '' }, { target: 'attestation' }));
  context.out.table([ruleRow(response.rule!)]);
  context.out.document(response.rule);
}

/** `mayfly binding-rules list [<issuer>]`. */
export async function list(context: CommandContext): Promise<void> {
  const response = await withRegistry(context, (client) => callUnary(client, client.listBindingRules, { issuer: context.args[0] ?? '' }, { target: 'attestation' }));
  context.out.table(response.rules.map(ruleRow));
  context.out.document(response.rules);
}

/** `mayfly binding-rules remove <id>`. */
export async function remove(context: CommandContext): Promise<void> {
  const id = context.args[0];
  if (!id) throw new Error('usage: mayfly binding-rules remove <id> [--reason T]');
  await withRegistry(context, (client) => callUnary(client, client.removeBindingRule, { id, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ id, rule: 'removed' }]);
  context.out.document({ id, removed: true });
}
