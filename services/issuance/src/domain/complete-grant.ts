import { LIMITS, MayflyError, sanitizeText, validateToken, validateUuid } from '@mayfly/core';
import type { CompleteGrantRequest, CompleteGrantResponse, RevokeResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import type { GrantCall } from './grant-flow.js';
import { authenticateHolder, type HolderPorts } from './grant-holder.js';

export interface CompletionPorts extends HolderPorts {
  /**
   * Ends the grant through the revocation service, so that edges hear of it. The revocation
   * service records issuance (the mTLS peer) as the actor and `note` beside it.
   */
  complete(grantId: string, reason: string, note: string, deadline: Date | undefined): Promise<RevokeResponse>;
}

/**
 * Ends a grant because its task is done. Holding the grant is what entitles the caller to do
 * so: its own unexpired token, and for a bound token the session certificate it is bound to (a
 * stolen bound token cannot end its grant either). The grant is then revoked everywhere like
 * any other revocation, with status COMPLETED.
 */
export async function completeGrant(request: CompleteGrantRequest, call: GrantCall, credentials: CredentialFormat, ports: CompletionPorts): Promise<CompleteGrantResponse> {
  validateUuid('grant_id', request.grantId);
  validateToken('access_token', request.accessToken);

  const presented = await credentials.inspect(request.accessToken);
  if (presented.grantId === request.grantId && presented.expired) {
    throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${request.grantId} has already expired`);
  }
  await authenticateHolder(presented, request.grantId, call, ports, 'complete the grant');
  // The outcome is the task's own text (an error message, perhaps coloured or long): it is
  // cleaned up and cut, never a reason to leave the grant live.
  const outcome = sanitizeText(request.outcome, LIMITS.reasonMaxLength - 20);
  const reason = `task completed${outcome ? `: ${outcome}` : ''}`;
  const response = await ports.complete(request.grantId, reason, `on behalf of ${presented.spiffeId}`, call.deadline);
  return response.grant ? { grant: response.grant } : { grant: undefined };
}
