import { LIMITS, actorOf, invalidArgument, sanitizeText, validateSpiffeId, validateTaskId, validateUuid } from '@mayfly/core';
import { GrantStatus, type RevokeRequest } from '@mayfly/proto';

/** What a Revoke call revokes: exactly one of the request's oneof target. */
export type RevocationTarget =
  | { readonly kind: 'grant'; readonly grantId: string }
  | { readonly kind: 'token'; readonly tokenId: string }
  | { readonly kind: 'task'; readonly taskId: string; readonly spiffeId: string | undefined }
  | { readonly kind: 'workload'; readonly spiffeId: string; readonly issuedBefore: Date }
  | { readonly kind: 'key'; readonly keyId: string }
  /** Not a Revoke target: an edge consuming a single-use token (Consume). */
  | { readonly kind: 'consumption'; readonly grantId: string; readonly tokenId: string; readonly resource: string; readonly action: string };

export interface ValidRevokeRequest {
  readonly target: RevocationTarget;
  /** Sanitised and cut to LIMITS.reasonMaxLength: the text of a reason never stops a revocation. */
  readonly reason: string;
  /** Who asked: the caller's SPIFFE ID from its verified mTLS certificate. */
  readonly requestedBy: string;
  /** What the caller said of itself or whom it acts for (requested_by): a note, not an identity. */
  readonly note: string;
  /** The ended grants' status; 'completed' only for a grant, token or task target. */
  readonly finalStatus: 'revoked' | 'completed';
}

/** Stands in for the caller's identity where none can be verified (MAYFLY_INSECURE_DEV only). */
export { UNVERIFIED_CALLER } from '@mayfly/core';

/** A JWK thumbprint (base64url), as Mayfly's keyring names keys; other kids in the same alphabet. */
const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A watermark may be set a little ahead of this clock (another host's "now"), never further: a
 * watermark in the future would also revoke credentials not yet issued.
 */
const CLOCK_SKEW_MS = 5_000;

/**
 * Checks a Revoke call before anything is touched. Only what identifies the target and the
 * outcome can make it fail; reason and note are cleaned up, never refused.
 *
 * @param caller the SPIFFE ID of the verified peer certificate, if any.
 */
export function readRevokeRequest(request: RevokeRequest, caller: string | undefined, now = new Date()): ValidRevokeRequest {
  const target = readTarget(request, now);
  const finalStatus = readFinalStatus(request.finalStatus);
  if (finalStatus === 'completed' && (target.kind === 'workload' || target.kind === 'key')) {
    throw invalidArgument('final_status', `GRANT_STATUS_COMPLETED ends a grant or a task; a ${target.kind} revocation always revokes`);
  }
  return {
    target,
    reason: sanitizeText(request.reason, LIMITS.reasonMaxLength) || 'no reason given',
    requestedBy: actorOf(caller),
    note: sanitizeText(request.requestedBy, 256),
    finalStatus,
  };
}

function readTarget(request: RevokeRequest, now: Date): RevocationTarget {
  // ts-proto reads a oneof as optional fields: a hand-built message could set several.
  const set = (['grantId', 'tokenId', 'task', 'workload', 'keyId'] as const).filter((field) => request[field] !== undefined);
  if (set.length !== 1) {
    throw invalidArgument('target', set.length === 0 ? 'name what to revoke: grant_id, token_id, task, workload or key_id' : `only one target per call; got ${set.join(', ')}`);
  }
  if (request.grantId !== undefined) {
    validateUuid('grant_id', request.grantId);
    return { kind: 'grant', grantId: request.grantId };
  }
  if (request.tokenId !== undefined) {
    validateUuid('token_id', request.tokenId);
    return { kind: 'token', tokenId: request.tokenId };
  }
  if (request.task) {
    validateTaskId('task.task_id', request.task.taskId);
    if (request.task.spiffeId !== '') validateSpiffeId('task.spiffe_id', request.task.spiffeId);
    return { kind: 'task', taskId: request.task.taskId, spiffeId: request.task.spiffeId || undefined };
  }
  if (request.workload) {
    validateSpiffeId('workload.spiffe_id', request.workload.spiffeId);
    const issuedBefore = request.workload.issuedBefore ?? now;
    if (issuedBefore.getTime() > now.getTime() + CLOCK_SKEW_MS) {
      throw invalidArgument('workload.issued_before', `${issuedBefore.toISOString()} is in the future; a watermark revokes what was issued before it, so it must not be later than now`);
    }
    return { kind: 'workload', spiffeId: request.workload.spiffeId, issuedBefore };
  }
  const keyId = request.keyId ?? '';
  if (!KEY_ID.test(keyId)) throw invalidArgument('key_id', 'must be a key id (kid) of 1 to 128 base64url characters, as `mayfly keys list` shows them');
  return { kind: 'key', keyId };
}

function readFinalStatus(status: GrantStatus): ValidRevokeRequest['finalStatus'] {
  switch (status) {
    case GrantStatus.GRANT_STATUS_UNSPECIFIED:
    case GrantStatus.GRANT_STATUS_REVOKED:
      return 'revoked';
    case GrantStatus.GRANT_STATUS_COMPLETED:
      return 'completed';
    default:
      throw invalidArgument('final_status', 'must be GRANT_STATUS_REVOKED or GRANT_STATUS_COMPLETED');
  }
}
