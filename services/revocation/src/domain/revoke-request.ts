import { LIMITS, invalidArgument, validateOptionalText, validateUuid } from '@mayfly/core';
import { GrantStatus, type RevokeRequest } from '@mayfly/proto';

export interface ValidRevokeRequest {
  readonly grantId: string;
  readonly reason: string;
  readonly requestedBy: string;
  readonly finalStatus: 'revoked' | 'completed';
}

/** Checks a Revoke call before anything is touched. */
export function readRevokeRequest(request: RevokeRequest): ValidRevokeRequest {
  validateUuid('grant_id', request.grantId);
  if (request.reason.trim().length === 0) throw invalidArgument('reason', 'is required: say why the grant is revoked');
  validateOptionalText('reason', request.reason, LIMITS.reasonMaxLength);
  validateOptionalText('requested_by', request.requestedBy, 256);
  let finalStatus: ValidRevokeRequest['finalStatus'];
  switch (request.finalStatus) {
    case GrantStatus.GRANT_STATUS_UNSPECIFIED:
    case GrantStatus.GRANT_STATUS_REVOKED:
      finalStatus = 'revoked';
      break;
    case GrantStatus.GRANT_STATUS_COMPLETED:
      finalStatus = 'completed';
      break;
    default:
      throw invalidArgument('final_status', 'must be GRANT_STATUS_REVOKED or GRANT_STATUS_COMPLETED');
  }
  return {
    grantId: request.grantId,
    reason: request.reason,
    requestedBy: request.requestedBy || 'unknown',
    finalStatus,
  };
}
