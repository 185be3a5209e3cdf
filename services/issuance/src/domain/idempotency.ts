import { type GrantRecord, toGrantMessage } from '@mayfly/model';
import { createHash } from 'node:crypto';
import { MayflyError, invalidArgument } from '@mayfly/core';
import type { RequestGrantResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import type { ValidGrantRequest } from './grant-request.js';
import type { RequestTrail } from './request-trail.js';

/**
 * What makes two requests "the same request": every field the caller chose that shapes the
 * grant — a retry that differs in any of them (single-use, liveness, break-glass included) is
 * another request, refused under the same key. Evidence is not in it (a retry brings fresh
 * evidence); the identity it proves is the key's scope instead. Versioned: a digest stored by
 * an older release never matches, so a retry across an upgrade is refused, never mis-answered.
 */
export function requestDigest(request: ValidGrantRequest): string {
  const { task } = request;
  const canonical = JSON.stringify([
    'v2',
    task.id,
    task.kind,
    task.reference,
    task.deadline?.toISOString() ?? null,
    request.resource,
    [...request.actions],
    request.requestedTtlSeconds,
    request.justification,
    request.singleUse,
    request.heartbeatIntervalSeconds,
    request.breakGlass,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The answer to a request whose key already has a grant: the same grant and the very same
 * token (re-signed from what was stored, byte for byte), recorded as a replay — or a refusal if
 * the key was used for another request. The grant is returned as it is now (it may have ended
 * since: its token is then refused at the edges as before).
 */
export function replayGrant(earlier: GrantRecord, request: ValidGrantRequest, credentials: CredentialFormat, trail: RequestTrail): RequestGrantResponse {
  const key = earlier.idempotency_key ?? '';
  if (earlier.request_digest !== requestDigest(request)) {
    trail.add({ kind: 'grant.idempotency_conflict', outcome: 'denied', detail: { idempotencyKey: key, earlierGrantId: earlier.id } });
    throw invalidArgument('idempotency_key', `"${key}" was used for a different request (grant ${earlier.id}); use a new key for a new request`);
  }
  const accessToken = earlier.token_reissue === null ? undefined : credentials.reissue(earlier.token_reissue);
  if (accessToken === undefined) {
    trail.add({ kind: 'grant.idempotency_conflict', outcome: 'denied', detail: { idempotencyKey: key, earlierGrantId: earlier.id, reason: 'signing key gone' } });
    throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${earlier.id} of idempotency key "${key}" cannot be answered again: the key that signed its token is no longer in use; request with a new key`);
  }
  trail.add({ kind: 'grant.replayed', outcome: 'success', grantId: earlier.id, detail: { idempotencyKey: key, status: earlier.status } });
  // A login's password left once, with the first answer: a replay does not carry it again.
  return { grant: toGrantMessage(earlier), accessToken, claimSecret: '', credential: undefined };
}
