import { LIMITS, invalidArgument, validateActions, validateResource, type Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { Verdict, VerifyResponse, type EdgeVerifierServiceServer } from '@mayfly/proto';
import type { EdgeVerifier } from '@mayfly/verifier';

export function edgeVerifierApi(verifier: EdgeVerifier, log: Logger): EdgeVerifierServiceServer {
  return {
    verify: unary(log, 'mayfly.v1.EdgeVerifierService/Verify', async (request) => {
      if (request.accessToken.length === 0) throw invalidArgument('access_token', 'is required');
      if (request.accessToken.length > LIMITS.tokenMaxLength) {
        return VerifyResponse.fromPartial({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_TOKEN_MALFORMED', message: 'token is too large' });
      }
      validateResource('audience', request.audience);
      // The sidecar answers "may this token do this here?": without an action, the scope check
      // would be skipped and any scope would pass. Ask for what the caller is about to do.
      if (request.action === '') throw invalidArgument('action', 'is required: name what the caller is about to do (e.g. "read"); the token must carry it in its scope');
      validateActions('action', [request.action]);
      const result = await verifier.verify(request.accessToken, {
        audience: request.audience,
        action: request.action,
        peerCertificate: request.peerCertificate.length > 0 ? request.peerCertificate : undefined,
      });
      if (!result.ok) {
        log.info({ reason: result.code }, 'token rejected');
        return VerifyResponse.fromPartial({ verdict: Verdict.VERDICT_REJECTED, reasonCode: result.code, message: result.message });
      }
      const { claims, delegation } = result;
      return VerifyResponse.fromPartial({
        verdict: Verdict.VERDICT_ACCEPTED,
        spiffeId: claims.spiffeId,
        grantId: claims.grantId,
        taskId: claims.taskId,
        scopes: [...claims.scopes],
        expiresAt: claims.expiresAt,
        delegation: delegation ? { actor: delegation.actor, delegators: [...delegation.delegators], depth: delegation.depth, parentGrantIds: [...delegation.parentGrantIds] } : undefined,
      });
    }),
  };
}
