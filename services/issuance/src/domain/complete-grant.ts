import { LIMITS, MayflyError, sanitizeText, validateToken, validateUuid } from '@mayfly/core';
import type { CompleteGrantRequest, CompleteGrantResponse, RevokeResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';

export interface CompletionPorts {
  /**
   * Ends the grant through the revocation service, so that edges hear of it. The revocation
   * service records issuance (the mTLS peer) as the actor and `note` beside it.
   */
  complete(grantId: string, reason: string, note: string, deadline: Date | undefined): Promise<RevokeResponse>;
}

/**
 * Ends a grant because its task is done. Holding the grant's own token is what entitles the
 * caller to do so; the grant is then revoked everywhere like any other revocation, with status
 * COMPLETED.
 */
export async function completeGrant(
  request: CompleteGrantRequest,
  credentials: CredentialFormat,
  ports: CompletionPorts,
  deadline?: Date,
): Promise<CompleteGrantResponse> {
  validateUuid('grant_id', request.grantId);
  validateToken('access_token', request.accessToken);

  const presented = await credentials.inspect(request.accessToken);
  if (presented.grantId !== request.grantId) {
    throw new MayflyError('ERR_TOKEN_INVALID', 'access_token was not issued for this grant_id');
  }
  if (presented.expired) {
    throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${request.grantId} has already expired`);
  }
  // The outcome is the task's own text (an error message, perhaps coloured or long): it is
  // cleaned up and cut, never a reason to leave the grant live.
  const outcome = sanitizeText(request.outcome, LIMITS.reasonMaxLength - 20);
  const reason = `task completed${outcome ? `: ${outcome}` : ''}`;
  const response = await ports.complete(request.grantId, reason, `on behalf of ${presented.spiffeId}`, deadline);
  return response.grant ? { grant: response.grant } : { grant: undefined };
}
