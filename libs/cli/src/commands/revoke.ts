import { serviceAddress } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { useOperatorIdentity } from '@mayfly/mesh';
import { RevocationServiceClient, RevokeRequest, type RevokeResponse } from '@mayfly/proto';
import type { CommandContext } from '../command.js';

/**
 * `mayfly revoke grant|token|task|workload|key <id>`: one Revoke call to the revocation service,
 * as the operator (its certificate is the identity the audit trail records; --reason says why).
 */
async function revoke(context: CommandContext, target: Partial<RevokeRequest>, what: string): Promise<void> {
  useOperatorIdentity(context.stateDir);
  const client = createClient(RevocationServiceClient, serviceAddress('revocation'), 'revocation');
  let response: RevokeResponse;
  try {
    const request = RevokeRequest.fromPartial({ ...target, reason: context.flags.reason ?? '', requestedBy: process.env['USER'] ?? '' });
    response = await callUnary(client, client.revoke, request, { target: 'revocation' });
  } finally {
    client.close();
  }
  context.out.table([
    {
      revoked: what,
      grantsEnded: String(response.grantsEnded),
      revocation: response.revocation?.id ?? '',
      onStream: response.published ? 'yes' : 'not yet (stored; published when NATS is back)',
    },
  ]);
  if (response.endedGrantIds.length > 0) context.out.say(`grants ended: ${response.endedGrantIds.join(', ')}`);
  context.out.document(response);
}

function argument(context: CommandContext, usage: string): string {
  const value = context.args[0];
  if (!value) throw new Error(`usage: ${usage}`);
  return value;
}

/** `mayfly revoke grant <grant-id>`. */
export async function grant(context: CommandContext): Promise<void> {
  const grantId = argument(context, 'mayfly revoke grant <grant-id> [--reason TEXT]');
  await revoke(context, { grantId }, `grant ${grantId}`);
}

/** `mayfly revoke token <jti>`: the grant whose token it is. */
export async function token(context: CommandContext): Promise<void> {
  const tokenId = argument(context, 'mayfly revoke token <jti> [--reason TEXT]');
  await revoke(context, { tokenId }, `token ${tokenId}`);
}

/** `mayfly revoke task <task-id> [--workload SPIFFE-ID]`: every active grant of the task. */
export async function task(context: CommandContext): Promise<void> {
  const taskId = argument(context, 'mayfly revoke task <task-id> [--workload SPIFFE-ID] [--reason TEXT]');
  const spiffeId = context.flags.workload ?? '';
  await revoke(context, { task: { taskId, spiffeId } }, `task ${taskId}${spiffeId ? ` of ${spiffeId}` : ''}`);
}

/** `mayfly revoke workload <spiffe-id> [--issued-before ISO]`: a watermark (default now). */
export async function workload(context: CommandContext): Promise<void> {
  const spiffeId = argument(context, 'mayfly revoke workload <spiffe-id> [--issued-before ISO-8601] [--reason TEXT]');
  const issuedBefore = context.flags.issuedBefore ? new Date(context.flags.issuedBefore) : undefined;
  if (issuedBefore && Number.isNaN(issuedBefore.getTime())) throw new Error('--issued-before must be an ISO-8601 time, e.g. 2026-11-22T10:00:00Z');
  await revoke(context, { workload: { spiffeId, issuedBefore } }, `every credential of ${spiffeId} issued before ${(issuedBefore ?? new Date()).toISOString()}`);
}

/** `mayfly revoke key <kid>`: every token the signing key signed. */
export async function key(context: CommandContext): Promise<void> {
  const keyId = argument(context, 'mayfly revoke key <kid> [--reason TEXT]   (promote another key first: a revoked active key stops issuance)');
  await revoke(context, { keyId }, `every token signed by key ${keyId}`);
}
