import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import type { RevocationServiceServer } from '@mayfly/proto';
import { readRevokeRequest } from '../domain/revoke-request.js';
import type { Revoker } from '../domain/revoker.js';

export function revocationApi(revoker: Revoker, log: Logger): RevocationServiceServer {
  return {
    revoke: unary(log, 'Revoke', async (request) => {
      const response = await revoker.revoke(readRevokeRequest(request));
      log.info({ grantId: request.grantId, published: response.published }, 'grant revoked');
      return response;
    }),
  };
}
