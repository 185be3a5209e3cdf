import { LIMITS, invalidArgument, sanitizeText, validateUuid } from '@mayfly/core';
import { GrantStatus, type RevokeRequest } from '@mayfly/proto';

export interface ValidRevokeRequest {
  readonly grantId: string;
  /** Sanitised and cut to LIMITS.reasonMaxLength: the text of a reason never stops a revocation. */
  readonly reason: string;
  /** Who asked: the caller's SPIFFE ID from its verified mTLS certificate. */
  readonly requestedBy: string;
  /** What the caller said of itself or whom it acts for (requested_by): a note, not an identity. */
  readonly note: string;
  readonly finalStatus: 'revoked' | 'completed';
}

/** Stands in for the caller's identity where none can be verified (MAYFLY_INSECURE_DEV only). */
export const UNVERIFIED_CALLER = 'unverified-caller (insecure development mode)';

/**
 * Checks a Revoke call before anything is touched. Only what identifies the grant and the
 * outcome can make it fail; reason and note are cleaned up, never refused.
 *
 * @param caller the SPIFFE ID of the verified peer certificate, if any.
 */
export function readRevokeRequest(request: RevokeRequest, caller: string | undefined): ValidRevokeRequest {
  validateUuid('grant_id', request.grantId);
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
    reason: sanitizeText(request.reason, LIMITS.reasonMaxLength) || 'no reason given',
    requestedBy: caller ?? UNVERIFIED_CALLER,
    note: sanitizeText(request.requestedBy, 256),
    finalStatus,
  };
}
