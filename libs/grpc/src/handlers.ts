import type { ServerUnaryCall, sendUnaryData, handleUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '@mayfly/core';
import { toStatus } from './status-mapping.js';

/** What a handler knows of its call: the deadline to pass on, and whether the caller gave up. */
export interface CallContext {
  readonly deadline: Date | undefined;
  readonly cancelled: () => boolean;
  readonly peer: string;
}

/**
 * Adapts an async function to grpc-js's callback handler: errors become statuses (see
 * toStatus), and a call whose caller has gone is not answered.
 */
export function unary<Req, Res>(
  log: Logger,
  rpc: string,
  handler: (request: Req, context: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const deadline = call.getDeadline();
    const context: CallContext = {
      deadline: deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
      cancelled: () => call.cancelled,
      peer: call.getPeer(),
    };
    handler(call.request, context).then(
      (response) => {
        if (!call.cancelled) callback(null, response);
      },
      (error: unknown) => {
        if (!call.cancelled) callback(toStatus(error, log, rpc));
      },
    );
  };
}
