import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import type { IssuanceServiceServer } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { completeGrant, type CompletionPorts } from '../domain/complete-grant.js';
import type { GrantFlow } from '../domain/grant-flow.js';

export function issuanceApi(flow: GrantFlow, credentials: CredentialFormat, completion: CompletionPorts, log: Logger): IssuanceServiceServer {
  return {
    requestGrant: unary(log, 'RequestGrant', async (request, call) => {
      const response = await flow.requestGrant(request, call.deadline);
      log.info({ grantId: response.grant?.id, spiffeId: response.grant?.spiffeId, taskId: request.task?.id }, 'grant issued');
      return response;
    }),
    completeGrant: unary(log, 'CompleteGrant', async (request, call) => {
      const response = await completeGrant(request, credentials, completion, call.deadline);
      log.info({ grantId: request.grantId }, 'grant completed');
      return response;
    }),
  };
}
