import { callUnary } from '@mayfly/grpc';
import type { JoinToken } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { withRegistry } from './workloads.js';
import { wholeNumber } from '../flags.js';

const tokenRow = (token: JoinToken): Record<string, string> => ({
  id: token.id,
  workload: token.spiffeId,
  expires: token.expiresAt?.toISOString() ?? '',
  state: token.usedAt ? `used ${token.usedAt.toISOString()}` : token.expiresAt && token.expiresAt < new Date() ? 'expired' : 'unused',
  createdBy: token.createdBy,
});

/** `mayfly join-tokens create <spiffe-id> [--ttl S]`: the secret is printed once. */
export async function create(context: CommandContext): Promise<void> {
  const spiffeId = context.args[0];
  if (!spiffeId) throw new Error('usage: mayfly join-tokens create <spiffe-id> [--ttl SECONDS] [--reason T]');
  // 0: the service's default (600 s); it refuses more than 3600.
  const ttlSeconds = wholeNumber(context.flags.ttl, '--ttl', { min: 1, max: 3_600 }, 0);
  const response = await withRegistry(context, (client) => callUnary(client, client.createJoinToken, { spiffeId, ttlSeconds, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([tokenRow(response.joinToken!)]);
  context.out.say(`token (shown once; hand it to the workload as evidence.join_token): ${response.token}`);
  context.out.document(response);
}

/** `mayfly join-tokens list [--workload W]`. */
export async function list(context: CommandContext): Promise<void> {
  const response = await withRegistry(context, (client) => callUnary(client, client.listJoinTokens, { spiffeId: context.flags.workload ?? '' }, { target: 'attestation' }));
  context.out.table(response.joinTokens.map(tokenRow));
  context.out.document(response.joinTokens);
}

/** `mayfly join-tokens remove <id>`. */
export async function remove(context: CommandContext): Promise<void> {
  const id = context.args[0];
  if (!id) throw new Error('usage: mayfly join-tokens remove <id> [--reason T]');
  await withRegistry(context, (client) => callUnary(client, client.removeJoinToken, { id, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ id, joinToken: 'withdrawn' }]);
  context.out.document({ id, removed: true });
}
