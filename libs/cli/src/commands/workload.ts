import { callUnary } from '@mayfly/grpc';
import { AttestationServiceClient } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { asOperator } from '../operator-client.js';

/** Calls attestation as the operator. */
const withAttestation = <T>(context: CommandContext, call: (client: AttestationServiceClient) => Promise<T>): Promise<T> => asOperator(context, AttestationServiceClient, 'attestation', call);

function spiffeIdArgument(context: CommandContext, usage: string): string {
  const spiffeId = context.args[0];
  if (!spiffeId) throw new Error(`usage: ${usage}`);
  return spiffeId;
}

async function setEnabled(context: CommandContext, enabled: boolean): Promise<void> {
  const verb = enabled ? 'enable' : 'disable';
  const spiffeId = spiffeIdArgument(context, `mayfly workload ${verb} <spiffe-id> [--reason TEXT]`);
  const response = await withAttestation(context, (client) =>
    callUnary(client, client.setWorkloadEnabled, { spiffeId, enabled, reason: context.flags.reason ?? '' }, { target: 'attestation' }),
  );
  context.out.table([{ workload: response.spiffeId, state: response.enabled ? 'enabled' : 'disabled' }]);
  context.out.say(enabled ? 'it may start sessions and get grants again' : 'no new session; its session grants stop within MAYFLY_SESSION_CHECK_CACHE_MS (default 2 s)');
  context.out.document(response);
}

/** `mayfly workload disable <spiffe-id>`: no session, no grant; audited. */
export const disable = (context: CommandContext): Promise<void> => setEnabled(context, false);
/** `mayfly workload enable <spiffe-id>`. */
export const enable = (context: CommandContext): Promise<void> => setEnabled(context, true);

/** `mayfly svid revoke --serial HEX` or `mayfly svid revoke <spiffe-id> [--issued-before ISO]`. */
export async function revokeSvids(context: CommandContext): Promise<void> {
  const serial = context.flags.serial ?? '';
  const spiffeId = context.args[0] ?? '';
  if (!serial && !spiffeId) throw new Error('usage: mayfly svid revoke --serial HEX | mayfly svid revoke <spiffe-id> [--issued-before ISO-8601] [--reason TEXT]');
  const issuedBefore = context.flags.issuedBefore ? new Date(context.flags.issuedBefore) : undefined;
  if (issuedBefore && Number.isNaN(issuedBefore.getTime())) throw new Error('--issued-before must be an ISO-8601 time, e.g. 2026-11-22T10:00:00Z');
  const response = await withAttestation(context, (client) =>
    callUnary(client, client.revokeSvids, { serial, spiffeId: serial ? '' : spiffeId, issuedBefore, reason: context.flags.reason ?? '' }, { target: 'attestation' }),
  );
  context.out.table([{ workload: response.spiffeId, revoked: serial ? `SVID ${serial}` : `every SVID issued before ${(issuedBefore ?? new Date()).toISOString()}` }]);
  context.out.document({ ...response, serial: serial || undefined, issuedBefore: serial ? undefined : (issuedBefore ?? new Date()).toISOString() });
}
