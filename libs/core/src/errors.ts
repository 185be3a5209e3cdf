import { GrpcStatus, type GrpcStatusCode } from './grpc-status.js';

/**
 * Every error Mayfly reports has a stable code. Callers (and tests) switch on the code, never on
 * message text. Each code maps to exactly one gRPC status.
 */
export const ERROR_STATUS = {
  ERR_INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  ERR_ATTESTATION_FAILED: GrpcStatus.UNAUTHENTICATED,
  ERR_TOKEN_INVALID: GrpcStatus.UNAUTHENTICATED,
  /** The session certificate (X.509-SVID) is no longer accepted: attest again with fresh evidence. */
  ERR_SVID_REJECTED: GrpcStatus.UNAUTHENTICATED,
  ERR_POLICY_DENIED: GrpcStatus.PERMISSION_DENIED,
  ERR_CALLER_NOT_ALLOWED: GrpcStatus.PERMISSION_DENIED,
  ERR_CALLER_UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  ERR_RATE_LIMITED: GrpcStatus.RESOURCE_EXHAUSTED,
  ERR_GRANT_NOT_FOUND: GrpcStatus.NOT_FOUND,
  ERR_GRANT_NOT_ACTIVE: GrpcStatus.FAILED_PRECONDITION,
  ERR_WORKLOAD_NOT_FOUND: GrpcStatus.NOT_FOUND,
  /** A registry entry (trusted issuer, binding) that does not exist. */
  ERR_NOT_FOUND: GrpcStatus.NOT_FOUND,
  /** The workload is registered but disabled: it may not receive access. */
  ERR_WORKLOAD_DISABLED: GrpcStatus.FAILED_PRECONDITION,
  /** A delegation asked for more than the parent grant holds (another resource, an action it lacks). */
  ERR_DELEGATION_EXCEEDS_PARENT: GrpcStatus.PERMISSION_DENIED,
  /** The delegation chain would be longer than MAYFLY_MAX_DELEGATION_DEPTH allows. */
  ERR_DELEGATION_TOO_DEEP: GrpcStatus.PERMISSION_DENIED,
  /** The person may not answer this request (separation of duties, or not an approver). */
  ERR_APPROVER_NOT_ALLOWED: GrpcStatus.PERMISSION_DENIED,
  /** An approver rejected the request; the message says who and why. */
  ERR_APPROVAL_REJECTED: GrpcStatus.PERMISSION_DENIED,
  /** The grant is not waiting for approval (approved, rejected, expired, or never needed it). */
  ERR_GRANT_NOT_PENDING: GrpcStatus.FAILED_PRECONDITION,
  /** What a pending request asked for no longer holds at approval (ceiling, policy, workload, session): it ended. */
  ERR_REQUEST_CHANGED: GrpcStatus.FAILED_PRECONDITION,
  /** The signing key (or the watermark asked for) is already revoked. */
  ERR_ALREADY_REVOKED: GrpcStatus.ALREADY_EXISTS,
  /** What is being created exists already (a workload's SPIFFE ID is registered). */
  ERR_ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  /** Issuance's active signing key was revoked: promote another before tokens can be issued. */
  ERR_SIGNING_KEY_REVOKED: GrpcStatus.FAILED_PRECONDITION,
  ERR_RESOURCE_IN_USE: GrpcStatus.FAILED_PRECONDITION,
  ERR_TASK_DEADLINE_PASSED: GrpcStatus.FAILED_PRECONDITION,
  /** The grant has reached its renewable_until: request a new grant. */
  ERR_RENEWAL_LIMIT_REACHED: GrpcStatus.FAILED_PRECONDITION,
  /** A single-use token was used already. */
  ERR_TOKEN_CONSUMED: GrpcStatus.FAILED_PRECONDITION,
  /** The session may not rotate its certificate without evidence (not a join token's, or past its rotatable_until). */
  ERR_SESSION_NOT_ROTATABLE: GrpcStatus.FAILED_PRECONDITION,
  ERR_DEPENDENCY_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  ERR_DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  ERR_CONFIG: GrpcStatus.FAILED_PRECONDITION,
  ERR_INTERNAL: GrpcStatus.INTERNAL,
} as const satisfies Record<string, GrpcStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, value);
}

export interface MayflyErrorOptions {
  cause?: unknown;
  /** The request field at fault, for INVALID_ARGUMENT. */
  field?: string;
  /** For RESOURCE_EXHAUSTED: when the caller may try again. */
  retryAfterMs?: number;
}

/** The one error type Mayfly throws on purpose. The API edge turns it into a gRPC status. */
export class MayflyError extends Error {
  override readonly name = 'MayflyError';
  readonly code: ErrorCode;
  readonly status: GrpcStatusCode;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: MayflyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.field = options.field;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function invalidArgument(field: string, message: string): MayflyError {
  return new MayflyError('ERR_INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

export function isMayflyError(error: unknown, code?: ErrorCode): error is MayflyError {
  return error instanceof MayflyError && (code === undefined || error.code === code);
}
