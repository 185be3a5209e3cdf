import { existsSync, statSync } from 'node:fs';
import { callUnary } from '@mayfly/grpc';
import { DecisionServiceClient, type PolicySetVersion } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { diffFileSets } from '../line-diff.js';
import { asOperator } from '../operator-client.js';
import { readPolicyDir } from './policy.js';
import { LIMIT, wholeNumber } from '../flags.js';

/**
 * `mayfly policy push|versions|show|diff|rollback`: the versioned policy sets decision keeps in
 * PostgreSQL. A push or rollback reaches every decision replica within a second (NOTIFY), at the
 * latest after MAYFLY_POLICY_CHECK_MS.
 */
const withDecision = <T>(context: CommandContext, call: (client: DecisionServiceClient) => Promise<T>): Promise<T> => asOperator(context, DecisionServiceClient, 'decision', call);

const versionRow = (version: PolicySetVersion, active: boolean): Record<string, string> => ({
  version: `${version.version}${active ? ' (active)' : ''}`,
  digest: version.digest.slice(0, 16),
  created: version.createdAt?.toISOString() ?? '',
  by: version.createdBy,
  reason: version.rolledBackFrom ? `rollback to ${version.rolledBackFrom}${version.reason ? `: ${version.reason}` : ''}` : version.reason,
});

/** `mayfly policy push DIR [--reason T]`: validated by decision, stored as the next version. */
export async function push(context: CommandContext): Promise<void> {
  const dir = context.args[0];
  if (!dir) throw new Error('usage: mayfly policy push DIR [--reason T]');
  const files = readPolicyDir(dir);
  const response = await withDecision(context, (client) => callUnary(client, client.pushPolicies, { files, reason: context.flags.reason ?? '' }, { target: 'decision' }));
  context.out.table([versionRow(response.version!, true)]);
  context.out.say(response.unchanged ? `unchanged: ${dir} is the active version already` : `version ${response.version!.version} is active (every decision replica within a second, at most MAYFLY_POLICY_CHECK_MS)`);
  context.out.document(response);
}

/** `mayfly policy versions [--limit N]`. */
export async function versions(context: CommandContext): Promise<void> {
  const limit = wholeNumber(context.flags.limit, '--limit', LIMIT, 20);
  const response = await withDecision(context, (client) => callUnary(client, client.listPolicyVersions, { limit }, { target: 'decision' }));
  context.out.table(response.versions.map((version, index) => versionRow(version, index === 0)));
  context.out.document(response.versions);
}

/** `mayfly policy show [VERSION]`: a version's files (default the active one). */
export async function show(context: CommandContext): Promise<void> {
  const version = versionArgument(context.args[0] ?? '0');
  const response = await withDecision(context, (client) => callUnary(client, client.getPolicyVersion, { version }, { target: 'decision' }));
  context.out.table([versionRow(response.version!, version === 0)]);
  for (const file of response.files) context.out.say(`==> ${file.name} <==\n${file.text}`);
  context.out.document(response);
}

/**
 * `mayfly policy diff [FROM [TO]]`: each side a version number or a policy directory. No
 * argument: the version before the active one against the active one; one: the active version
 * against it (`mayfly policy diff DIR` shows what a push would change).
 */
export async function diff(context: CommandContext): Promise<void> {
  const [first, second] = context.args;
  const sides = await withDecision(context, async (client) => {
    const read = async (side: string): Promise<{ label: string; files: Map<string, string> }> => {
      if (existsSync(side) && statSync(side).isDirectory()) return { label: side.replace(/\/$/, ''), files: new Map(readPolicyDir(side).map((file) => [file.name, file.text])) };
      const response = await callUnary(client, client.getPolicyVersion, { version: versionArgument(side) }, { target: 'decision' });
      return { label: `v${response.version!.version}`, files: new Map(response.files.map((file) => [file.name, file.text])) };
    };
    if (first === undefined) {
      const active = await callUnary(client, client.getPolicyVersion, { version: 0 }, { target: 'decision' });
      const number = active.version!.version;
      if (number === 1) return undefined;
      return [await read(String(number - 1)), { label: `v${number}`, files: new Map(active.files.map((file) => [file.name, file.text])) }] as const;
    }
    return second === undefined ? ([await read('0'), await read(first)] as const) : ([await read(first), await read(second)] as const);
  });
  if (!sides) {
    context.out.say('only one version is stored: nothing to compare');
    context.out.document({ changes: [] });
    return;
  }
  const [before, after] = sides;
  const lines = diffFileSets(before.files, after.files, { before: before.label, after: after.label });
  context.out.say(lines.length === 0 ? `${before.label} and ${after.label} are the same` : lines.join('\n'));
  context.out.document({ from: before.label, to: after.label, diff: lines });
}

/** `mayfly policy rollback VERSION [--reason T]`: its files become the next, active version. */
export async function rollback(context: CommandContext): Promise<void> {
  const target = context.args[0];
  if (!target) throw new Error('usage: mayfly policy rollback VERSION [--reason T]');
  const response = await withDecision(context, (client) => callUnary(client, client.rollbackPolicies, { version: versionArgument(target), reason: context.flags.reason ?? '' }, { target: 'decision' }));
  context.out.table([versionRow(response.version!, true)]);
  context.out.document(response);
}

function versionArgument(text: string): number {
  const version = Number(text.replace(/^v/, ''));
  if (!Number.isInteger(version) || version < 0) throw new Error(`${text}: a version number (mayfly policy versions lists them), or a policy directory`);
  return version;
}
