import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { MayflyError, isErrorCode, newId, type Logger } from '@mayfly/core';

/** Trailer that carries the Mayfly error code, so that clients can switch on it. */
export const ERROR_CODE_TRAILER = 'mayfly-error-code';
/** Trailer that names the request field at fault. */
export const ERROR_FIELD_TRAILER = 'mayfly-error-field';
/** Trailer that says when a throttled caller may retry, in milliseconds. */
export const RETRY_AFTER_TRAILER = 'mayfly-retry-after-ms';

export type StatusObject = Partial<ServiceError> & { code: status; details: string; metadata: Metadata };

/**
 * Turns anything thrown by a handler into a gRPC status. A MayflyError keeps its message: it was
 * written for the caller. Anything else is logged once here and hidden behind a reference, so
 * that internal details (SQL, stack traces) never reach a caller.
 */
export function toStatus(error: unknown, log: Logger, rpc: string): StatusObject {
  const metadata = new Metadata();
  if (error instanceof MayflyError) {
    metadata.set(ERROR_CODE_TRAILER, error.code);
    if (error.field !== undefined) metadata.set(ERROR_FIELD_TRAILER, error.field);
    if (error.retryAfterMs !== undefined) metadata.set(RETRY_AFTER_TRAILER, String(error.retryAfterMs));
    if (error.status === status.INTERNAL) log.error({ err: error, rpc }, 'internal error');
    return { code: error.status as number as status, details: error.message, metadata };
  }
  const ref = newId();
  log.error({ err: error, rpc, ref }, 'unexpected error');
  metadata.set(ERROR_CODE_TRAILER, 'ERR_INTERNAL');
  return { code: status.INTERNAL, details: `internal error (ref ${ref}); the service log has the details`, metadata };
}

/**
 * Turns a failed call into a MayflyError on the client side. The server's code is kept when it
 * sent one; otherwise the transport status picks the nearest code.
 */
export function fromServiceError(error: ServiceError, target: string): MayflyError {
  const trailer = error.metadata?.get(ERROR_CODE_TRAILER)[0];
  const field = error.metadata?.get(ERROR_FIELD_TRAILER)[0];
  const retryAfter = Number(error.metadata?.get(RETRY_AFTER_TRAILER)[0]);
  if (typeof trailer === 'string' && isErrorCode(trailer)) {
    return new MayflyError(trailer, error.details, {
      cause: error,
      ...(typeof field === 'string' ? { field } : {}),
      ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter } : {}),
    });
  }
  switch (error.code) {
    case status.UNAVAILABLE:
      return new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `${target} is unavailable: ${error.details}`, { cause: error });
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return new MayflyError('ERR_DEADLINE_EXCEEDED', `${target} did not answer in time`, { cause: error });
    default:
      return new MayflyError('ERR_INTERNAL', `${target} failed: ${error.details}`, { cause: error });
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'details' in error;
}
