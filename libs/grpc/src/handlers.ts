import type { PeerCertificate } from 'node:tls';
import { status, type ServerUnaryCall, type ServerWritableStream, type handleServerStreamingCall, type handleUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { MayflyError, invalidArgument, type Logger } from '@mayfly/core';
import { recordFailure } from '@mayfly/telemetry';
import { authorizeCaller } from './authorization.js';
import { verifiedPeerCertificate } from './peer-certificate.js';
import { toStatus } from './status-mapping.js';
import { inServerSpan } from './rpc-spans.js';
import { metadataGetter } from './trace-context.js';

/** Marks a request that could not be decoded; unary() refuses it with INVALID_ARGUMENT. */
export const MALFORMED_REQUEST = Symbol('mayfly.malformedRequest');

/** What a handler knows of its call: the deadline to pass on, whether the caller gave up, who it is. */
export interface CallContext {
  readonly deadline: Date | undefined;
  readonly cancelled: () => boolean;
  /** The network peer (address:port), for logs. */
  readonly peer: string;
  /**
   * The caller's SPIFFE ID from its verified client certificate, or undefined when it presented
   * none (workload-facing RPCs, insecure development mode). Audit records name this.
   */
  readonly caller: string | undefined;
  /** The client certificate, only if it verified against the server's client CA. */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** Statuses that mean the server failed (OpenTelemetry marks only these server spans as errors). */
const SERVER_FAULTS = new Set<number>([status.UNKNOWN, status.DEADLINE_EXCEEDED, status.UNIMPLEMENTED, status.INTERNAL, status.UNAVAILABLE, status.DATA_LOSS]);

/**
 * Adapts an async function to grpc-js's callback handler. The call runs in a server span that
 * continues the caller's trace; errors become statuses (see toStatus); a call whose caller has
 * gone is not answered.
 *
 * @param method the full method name, e.g. "mayfly.v1.IssuanceService/RequestGrant".
 */
export function unary<Req, Res>(
  log: Logger,
  method: string,
  handler: (request: Req, context: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  const [service, rpc] = method.split('/') as [string, string];
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const deadline = call.getDeadline();
    const callContext = {
      deadline: deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
      cancelled: () => call.cancelled,
      peer: call.getPeer(),
    };
    const { span, result } = inServerSpan(method, service, rpc, call.metadata, metadataGetter, async () => {
      const peerCertificate = verifiedPeerCertificate(call as ServerUnaryCall<unknown, unknown>);
      const caller = authorizeCaller(method, peerCertificate);
      const malformed = (call.request as { [MALFORMED_REQUEST]?: string } | null)?.[MALFORMED_REQUEST];
      if (malformed !== undefined) throw invalidArgument('request', `is not a valid ${method} request message (${malformed})`);
      return handler(call.request, { ...callContext, caller, peerCertificate });
    });
    result
      .then(
        (response) => {
          span.setAttribute('rpc.grpc.status_code', status.OK);
          if (!call.cancelled) callback(null, response);
        },
        (error: unknown) => {
          const sent = toStatus(error, log, rpc);
          span.setAttribute('rpc.grpc.status_code', sent.code);
          if (SERVER_FAULTS.has(sent.code)) recordFailure(span, error);
          else if (error instanceof MayflyError) span.setAttribute('mayfly.error.code', error.code);
          if (!call.cancelled) callback(sent);
        },
      )
      .finally(() => span.end());
  };
}

/**
 * Adapts an async function to a server-streaming handler: `send` writes one message; the stream
 * ends when the function returns, or with the error's status when it throws. Same span, caller
 * check and error mapping as unary(); a caller that went away stops being written to.
 */
export function serverStream<Req, Res>(
  log: Logger,
  method: string,
  handler: (request: Req, context: CallContext, send: (response: Res) => void) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  const [service, rpc] = method.split('/') as [string, string];
  return (call: ServerWritableStream<Req, Res>) => {
    const deadline = call.getDeadline();
    const callContext = {
      deadline: deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
      cancelled: () => call.cancelled,
      peer: call.getPeer(),
    };
    const send = (response: Res): void => {
      if (!call.cancelled) call.write(response);
    };
    const { span, result } = inServerSpan(method, service, rpc, call.metadata, metadataGetter, async () => {
      const peerCertificate = verifiedPeerCertificate(call as unknown as ServerUnaryCall<unknown, unknown>);
      const caller = authorizeCaller(method, peerCertificate);
      const malformed = (call.request as { [MALFORMED_REQUEST]?: string } | null)?.[MALFORMED_REQUEST];
      if (malformed !== undefined) throw invalidArgument('request', `is not a valid ${method} request message (${malformed})`);
      await handler(call.request, { ...callContext, caller, peerCertificate }, send);
    });
    result
      .then(
        () => {
          span.setAttribute('rpc.grpc.status_code', status.OK);
          if (!call.cancelled) call.end();
        },
        (error: unknown) => {
          const sent = toStatus(error, log, rpc);
          span.setAttribute('rpc.grpc.status_code', sent.code);
          if (SERVER_FAULTS.has(sent.code)) recordFailure(span, error);
          else if (error instanceof MayflyError) span.setAttribute('mayfly.error.code', error.code);
          if (!call.cancelled) call.emit('error', sent);
        },
      )
      .finally(() => span.end());
  };
}
