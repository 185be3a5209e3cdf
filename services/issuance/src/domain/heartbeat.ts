import { validateToken, validateUuid } from '@mayfly/core';
import type { HeartbeatRequest, HeartbeatResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import type { GrantCall } from './grant-flow.js';
import { authenticateHolder } from './grant-holder.js';
import { liveGrant, type RenewalPorts } from './renew-grant.js';

export interface HeartbeatPorts extends Pick<RenewalPorts, 'findGrant' | 'checkSession' | 'checkWorkloadEnabled'> {
  /** Records the heartbeat; returns when the next is due, or undefined if the grant is no longer active. */
  recordHeartbeat(grantId: string, at: Date): Promise<Date | undefined>;
}

/**
 * The task holding a grant says it is alive. Authenticated as a renewal is (a current token of
 * the grant, under its certificate when bound). Heartbeats are not audited one by one — the
 * revocation of a grant whose heartbeat stopped is. A grant that requires no liveness answers
 * with no next_due.
 */
export async function heartbeat(request: HeartbeatRequest, call: GrantCall, credentials: CredentialFormat, ports: HeartbeatPorts, now = new Date()): Promise<HeartbeatResponse> {
  validateUuid('grant_id', request.grantId);
  validateToken('access_token', request.accessToken);
  const presented = await credentials.inspect(request.accessToken);
  await authenticateHolder(presented, request.grantId, call, ports, 'send heartbeats');
  const grant = await liveGrant(request.grantId, presented, ports);
  if (grant.heartbeat_interval_seconds === null) return { nextDue: undefined };
  // Undefined: the grant ended between the read and the write (revoked for a missed heartbeat, say).
  const nextDue = await ports.recordHeartbeat(grant.id, now);
  if (!nextDue) await liveGrant(request.grantId, presented, ports); // throws ERR_GRANT_NOT_ACTIVE with the reason
  return { nextDue };
}
