import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { mayflyMetrics, withSpan } from '@mayfly/telemetry';
import type { RevocationServiceServer } from '@mayfly/proto';
import { isMayflyError, sanitizeText, validateUuid } from '@mayfly/core';
import { auditEvent } from '@mayfly/audit-trail';
import { UNVERIFIED_CALLER, readRevokeRequest, type RevocationTarget } from '../domain/revoke-request.js';
import type { Revoker } from '../domain/revoker.js';

export function revocationApi(revoker: Revoker, log: Logger): RevocationServiceServer {
  return {
    revoke: unary(log, 'mayfly.v1.RevocationService/Revoke', async (request, call) => {
      const valid = readRevokeRequest(request, call.caller);
      const response = await withSpan('revoke', spanAttributes(valid.target), () => revoker.revoke(valid));
      mayflyMetrics().revocations.add(1, { status: valid.finalStatus, scope: valid.target.kind });
      log.info({ target: valid.target, requestedBy: valid.requestedBy, grantsEnded: response.grantsEnded, published: response.published }, 'revoked');
      return response;
    }),
    consume: unary(log, 'mayfly.v1.RevocationService/Consume', async (request, call) => {
      validateUuid('grant_id', request.grantId);
      validateUuid('token_id', request.tokenId);
      const target = {
        kind: 'consumption' as const,
        grantId: request.grantId,
        tokenId: request.tokenId,
        resource: sanitizeText(request.resource, 256),
        action: sanitizeText(request.action, 64),
      };
      const edge = call.caller ?? UNVERIFIED_CALLER;
      try {
        const response = await withSpan('consume', { 'mayfly.grant_id': request.grantId }, () =>
          revoker.revoke({ target, reason: `consumed (single use) on ${target.resource}${target.action ? ` ${target.action}` : ''}`, requestedBy: edge, note: '', finalStatus: 'completed' }),
        );
        return { revocation: response.revocation };
      } catch (error) {
        // A second use of a single-use token is a refusal worth a record: who tried, where.
        if (isMayflyError(error, 'ERR_TOKEN_CONSUMED')) {
          await revoker.recordRefusal([
            auditEvent('revocation', {
              kind: 'grant.consume_refused',
              actor: edge,
              outcome: 'denied',
              grantId: request.grantId,
              detail: { tokenId: request.tokenId, resource: target.resource, action: target.action, reason: error.message },
            }),
          ]);
        }
        throw error;
      }
    }),
  };
}

function spanAttributes(target: RevocationTarget): Record<string, string> {
  const attributes: Record<string, string> = { 'mayfly.revocation.scope': target.kind };
  if (target.kind === 'grant') attributes['mayfly.grant_id'] = target.grantId;
  if (target.kind === 'token') attributes['mayfly.token_id'] = target.tokenId;
  if (target.kind === 'task') attributes['mayfly.task_id'] = target.taskId;
  if (target.kind === 'workload' || (target.kind === 'task' && target.spiffeId)) attributes['mayfly.spiffe_id'] = target.spiffeId!;
  if (target.kind === 'key') attributes['mayfly.key_id'] = target.keyId;
  return attributes;
}
