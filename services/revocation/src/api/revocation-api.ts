import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { mayflyMetrics, withSpan } from '@mayfly/telemetry';
import type { RevocationServiceServer } from '@mayfly/proto';
import { readRevokeRequest } from '../domain/revoke-request.js';
import type { Revoker } from '../domain/revoker.js';

export function revocationApi(revoker: Revoker, log: Logger): RevocationServiceServer {
  return {
    revoke: unary(log, 'mayfly.v1.RevocationService/Revoke', async (request, call) => {
      const valid = readRevokeRequest(request, call.caller);
      const response = await withSpan('revoke', { 'mayfly.grant_id': valid.grantId }, () => revoker.revoke(valid));
      mayflyMetrics().revocations.add(1, { status: valid.finalStatus });
      log.info({ grantId: request.grantId, requestedBy: valid.requestedBy, published: response.published }, 'grant revoked');
      return response;
    }),
  };
}
