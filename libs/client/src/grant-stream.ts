import { status } from '@grpc/grpc-js';
import { MayflyError, isErrorCode } from '@mayfly/core';
import { AskingStream, StreamEndedError, callUnary } from '@mayfly/grpc';
import type { GrantError, IssuanceServiceClient, RequestGrantRequest, RequestGrantResponse, RequestGrantStreamRequest, RequestGrantStreamResponse } from '@mayfly/proto';

/** A stream takes new grant requests this long, then the next request opens another (see AskingStream). */
const STREAM_MAX_AGE_MS = 10_000;

/** How long grants go by RequestGrant calls after issuance said it has no RequestGrantStream. */
const STREAM_RETRY_AFTER_MS = 30_000;

/**
 * A session's grant requests, sent as messages of one RequestGrantStream over the session's
 * channel: the same grants, answers and errors as RequestGrant, for a fraction of a call's cost
 * on both sides. Falls back to RequestGrant calls for a while when issuance is of a release
 * without the stream (a rolling upgrade).
 *
 * A request whose stream ended before its answer came may or may not have made its grant: it
 * fails with ERR_DEPENDENCY_UNAVAILABLE, which callers retry with the same idempotency key (as
 * they do when a call's connection breaks), so a retry gets that grant rather than a second one.
 */
export class GrantRequests {
  private readonly stream: AskingStream<RequestGrantStreamRequest, RequestGrantStreamResponse>;
  private streamRefusedUntil = 0;

  constructor(private readonly client: IssuanceServiceClient) {
    this.stream = new AskingStream(client, () => client.requestGrantStream(), {
      method: 'mayfly.v1.IssuanceService/RequestGrantStream',
      target: 'issuance',
      maxAgeMs: STREAM_MAX_AGE_MS,
    });
  }

  async request(request: RequestGrantRequest, timeoutMs: number): Promise<RequestGrantResponse> {
    if (Date.now() >= this.streamRefusedUntil) {
      try {
        return answerOf(await this.stream.ask({ request, timeoutMs }, new Date(Date.now() + timeoutMs)));
      } catch (error) {
        if (!(error instanceof StreamEndedError)) throw error;
        if (error.cause.code !== status.UNIMPLEMENTED) {
          throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `${error.message}; whether the grant was made is unknown: ask again with the same idempotency key`, { cause: error });
        }
        // Refused before anything was read: nothing was granted, so asking by call is safe.
        this.streamRefusedUntil = Date.now() + STREAM_RETRY_AFTER_MS;
      }
    }
    return callUnary(this.client, this.client.requestGrant, request, { timeoutMs, target: 'issuance' });
  }

  /** Ends the stream once its requests are answered; a later request opens another. */
  close(): void {
    this.stream.close();
  }
}

/** The grant an answer carries, or the MayflyError RequestGrant would have thrown. */
export function answerOf(answer: RequestGrantStreamResponse): RequestGrantResponse {
  if (answer.grant) return answer.grant;
  if (answer.error) throw errorOf(answer.error);
  throw new MayflyError('ERR_INTERNAL', 'issuance answered a grant request with neither a grant nor an error');
}

/** As fromServiceError reads a failed call's status and trailers. */
export function errorOf(error: GrantError): MayflyError {
  const options = { ...(error.field ? { field: error.field } : {}), ...(error.retryAfterMs > 0 ? { retryAfterMs: error.retryAfterMs } : {}) };
  if (isErrorCode(error.code)) return new MayflyError(error.code, error.message, options);
  if (error.status === status.UNAVAILABLE) return new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `issuance is unavailable: ${error.message}`, options);
  if (error.status === status.DEADLINE_EXCEEDED) return new MayflyError('ERR_DEADLINE_EXCEEDED', 'issuance did not answer in time', options);
  return new MayflyError('ERR_INTERNAL', `issuance failed: ${error.message}`, options);
}
