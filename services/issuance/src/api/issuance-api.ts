import { isMayflyError, type Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { mayflyMetrics } from '@mayfly/telemetry';
import type { IssuanceServiceServer } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { completeGrant, type CompletionPorts } from '../domain/complete-grant.js';
import type { GrantFlow } from '../domain/grant-flow.js';
import { peerHost } from './peer-host.js';

export function issuanceApi(flow: GrantFlow, credentials: CredentialFormat, completion: CompletionPorts, log: Logger): IssuanceServiceServer {
  return {
    requestGrant: unary(log, 'mayfly.v1.IssuanceService/RequestGrant', async (request, call) => {
      const started = performance.now();
      const metrics = mayflyMetrics();
      let response;
      try {
        response = await flow.requestGrant(request, call.deadline, peerHost(call.peer));
      } catch (error) {
        const refused = isMayflyError(error, 'ERR_POLICY_DENIED') || isMayflyError(error, 'ERR_ATTESTATION_FAILED') || isMayflyError(error, 'ERR_RATE_LIMITED');
        const outcome = refused ? 'deny' : 'error';
        metrics.grantDuration.record(performance.now() - started, { outcome });
        throw error;
      }
      metrics.grantDuration.record(performance.now() - started, { outcome: 'allow' });
      metrics.tokensIssued.add(1);
      log.debug({ grantId: response.grant?.id, spiffeId: response.grant?.spiffeId, taskId: request.task?.id }, 'grant issued');
      return response;
    }),
    completeGrant: unary(log, 'mayfly.v1.IssuanceService/CompleteGrant', async (request, call) => {
      const response = await completeGrant(request, credentials, completion, call.deadline);
      log.debug({ grantId: request.grantId }, 'grant completed');
      return response;
    }),
  };
}

