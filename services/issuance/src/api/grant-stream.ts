import { invalidArgument, type Logger } from '@mayfly/core';
import { ERROR_CODE_TRAILER, ERROR_FIELD_TRAILER, RETRY_AFTER_TRAILER, answeringStream, toStatus, type StreamCaller } from '@mayfly/grpc';
import type { GrantError, RequestGrantStreamRequest, RequestGrantStreamResponse } from '@mayfly/proto';
import type { handleBidiStreamingCall } from '@grpc/grpc-js';
import type { GrantCall, GrantFlow } from '../domain/grant-flow.js';
import { requestGrantThrough } from './grant-door.js';

const METHOD = 'mayfly.v1.IssuanceService/RequestGrantStream';

/**
 * RequestGrant as messages of one long-lived stream (issue 24): the same grant flow, door and
 * metrics as the unary call, but a message costs a frame each way where a call costs a new
 * HTTP/2 stream with its headers, trailers and grpc-js call objects on both sides. Every message
 * is answered, a refusal included: only a stream that cannot go on (a message that does not
 * decode, the server shutting down) ends it.
 */
export function grantStream(
  flow: GrantFlow,
  log: Logger,
  grantCallOf: (caller: StreamCaller, deadline: Date | undefined) => GrantCall,
): handleBidiStreamingCall<RequestGrantStreamRequest, RequestGrantStreamResponse> {
  return answeringStream<RequestGrantStreamRequest, RequestGrantStreamResponse>(log, METHOD, async ({ id, request, timeoutMs }, caller) => {
    // The caller's wait for this message stands in for a call's deadline: the decision is
    // asked with it, and a grant nobody waits for any more is not worth finishing.
    const deadline = timeoutMs > 0 ? new Date(Date.now() + timeoutMs) : undefined;
    try {
      if (!request) throw invalidArgument('request', 'is required: the RequestGrant this message asks for');
      return { id, grant: await requestGrantThrough('grpc', flow, request, grantCallOf(caller, deadline), log) };
    } catch (error) {
      return { id, error: grantErrorOf(error, log) };
    }
  });
}

/**
 * What RequestGrant's status and trailers would have said about `error`, as a message: the same
 * mapping (toStatus), so an unexpected failure is logged here and reaches the caller only as a
 * reference, never as its internals.
 */
export function grantErrorOf(error: unknown, log: Logger): GrantError {
  const sent = toStatus(error, log, 'RequestGrantStream');
  const trailer = (key: string): string => {
    const value = sent.metadata.get(key)[0];
    return typeof value === 'string' ? value : '';
  };
  const retryAfterMs = Number(trailer(RETRY_AFTER_TRAILER));
  return {
    status: sent.code,
    code: trailer(ERROR_CODE_TRAILER),
    message: sent.details,
    field: trailer(ERROR_FIELD_TRAILER),
    retryAfterMs: Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? Math.ceil(retryAfterMs) : 0,
  };
}
