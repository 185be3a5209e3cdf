import type { PeerCertificate } from 'node:tls';
import { status, type ServerDuplexStream, type ServerUnaryCall, type handleBidiStreamingCall } from '@grpc/grpc-js';
import { invalidArgument, type Logger } from '@mayfly/core';
import { recordFailure } from '@mayfly/telemetry';
import { authorizeCaller } from './authorization.js';
import { MALFORMED_REQUEST } from './handlers.js';
import { verifiedPeerCertificate } from './peer-certificate.js';
import { inServerSpan } from './rpc-spans.js';
import { toStatus } from './status-mapping.js';

/** A message of an answering stream: an id its answer echoes, and its asker's trace context. */
export interface StreamedAsk {
  readonly id: number;
  readonly traceparent: string;
}

/** What an answering stream's handler knows of its caller: checked once, when the stream opened. */
export interface StreamCaller {
  /** The network peer (address:port). */
  readonly peer: string;
  /** The caller's SPIFFE ID from its verified client certificate (see CallContext.caller). */
  readonly caller: string | undefined;
  /** The client certificate, only if it verified against the server's client CA. */
  readonly peerCertificate: PeerCertificate | undefined;
  /** Whether the caller has gone: answers would reach nobody. */
  readonly cancelled: () => boolean;
}

/** Asks of one stream handled at once by default; further messages wait unread (see answeringStream). */
export const MAX_UNANSWERED = 128;

/** Streams open now, so that a server shutting down can end them (see endAnsweringStreams). */
const openStreams = new Set<() => void>();

/**
 * Adapts an async function to a bidirectional stream of asks and answers: each message the
 * caller sends is handled on its own and answered with a message carrying its id, in the order
 * the answers are ready. It is unary() made cheap for a peer that asks often: the caller is
 * checked once, when the stream opens, and each message costs a frame each way instead of a
 * gRPC call (headers, trailers, a new HTTP/2 stream and its bookkeeping on both sides).
 *
 * Each message is handled in a server span continuing the trace its `traceparent` names. The
 * handler answers every ask (a refusal is part of the answer); if it throws, or a message
 * cannot be decoded, the stream ends with that error's status, and the caller asks its
 * unanswered messages again another way.
 */
export function answeringStream<Ask extends StreamedAsk, Answer>(
  log: Logger,
  method: string,
  handler: (ask: Ask, caller: StreamCaller) => Promise<Answer>,
  options: { readonly maxUnanswered?: number } = {},
): handleBidiStreamingCall<Ask, Answer> {
  const [service, rpc] = method.split('/') as [string, string];
  const maxUnanswered = options.maxUnanswered ?? MAX_UNANSWERED;
  return (call: ServerDuplexStream<Ask, Answer>) => {
    let unanswered = 0;
    let callerDone = false;
    let ended = false;
    const end = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      openStreams.delete(endWhenAnswered);
      if (call.cancelled) return;
      if (error === undefined) call.end();
      else call.emit('error', toStatus(error, log, rpc));
    };
    // Shutdown: no new asks are read; those being handled are answered first.
    const endWhenAnswered = (): void => {
      callerDone = true;
      call.pause();
      if (unanswered === 0) end();
    };
    let caller: StreamCaller;
    try {
      const peerCertificate = verifiedPeerCertificate(call as unknown as ServerUnaryCall<unknown, unknown>);
      caller = { peer: call.getPeer(), caller: authorizeCaller(method, peerCertificate), peerCertificate, cancelled: () => call.cancelled };
    } catch (error) {
      end(error);
      return;
    }
    openStreams.add(endWhenAnswered);
    call.on('data', (ask: Ask) => {
      if (ended || callerDone) return;
      const malformed = (ask as { [MALFORMED_REQUEST]?: string })[MALFORMED_REQUEST];
      if (malformed !== undefined) {
        end(invalidArgument('request', `is not a valid ${method} message (${malformed})`));
        return;
      }
      // Back-pressure: a caller with this many asks in hand gets no more read until one is
      // answered and its answer has left (HTTP/2 flow control then holds the caller's writes).
      // An ask counts until its answer's write completes, so a caller that stops reading answers
      // stops being read from, instead of having answers pile up here.
      unanswered += 1;
      if (unanswered >= maxUnanswered) call.pause();
      const settled = (): void => {
        unanswered -= 1;
        if (callerDone && unanswered === 0) end();
        else if (!callerDone && unanswered === maxUnanswered - 1) call.resume();
      };
      const { span, result } = inServerSpan(method, service, rpc, ask, TRACEPARENT_GETTER, () => handler(ask, caller));
      result
        .then(
          (answer) => {
            span.setAttribute('rpc.grpc.status_code', status.OK);
            // grpc-js calls back once the frame is written; never if the call ended first.
            if (!ended && !call.cancelled) call.write(answer, settled);
            else settled();
          },
          (error: unknown) => {
            recordFailure(span, error);
            end(error);
            settled();
          },
        )
        .finally(() => span.end());
    });
    call.on('end', () => {
      callerDone = true;
      if (unanswered === 0) end();
    });
    call.on('cancelled', () => {
      ended = true;
      openStreams.delete(endWhenAnswered);
    });
    call.on('error', () => {
      ended = true;
      openStreams.delete(endWhenAnswered);
    });
  };
}

/**
 * Ends every answering stream of this process once its asks in hand are answered: a server
 * shutting down calls it first, or its callers' long-lived streams would hold the shutdown until
 * the grace period cut them off.
 */
export function endAnsweringStreams(): void {
  for (const end of [...openStreams]) end();
}

const TRACEPARENT_GETTER = {
  keys: (carrier: { traceparent: string }) => (carrier.traceparent ? ['traceparent'] : []),
  get: (carrier: { traceparent: string }, key: string) => (key === 'traceparent' && carrier.traceparent ? carrier.traceparent : undefined),
};
