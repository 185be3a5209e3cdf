import { GrpcStatus, MayflyError, type ErrorCode } from '@mayfly/core';

/** RFC 6749 §5.2 error codes, RFC 8707's invalid_target and RFC 8628's slow_down (rate limits). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_grant_type'
  | 'authorization_pending'
  | 'slow_down'
  | 'temporarily_unavailable'
  | 'server_error';

/** A refusal the token endpoint makes before the grant flow is asked (the form's own rules). */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly error: OAuthErrorCode,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

/** What the endpoint sends for a refusal: RFC 6749 §5.2's JSON, with Mayfly's code kept. */
export interface OAuthErrorAnswer {
  readonly httpStatus: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    readonly error: OAuthErrorCode;
    /** "ERR_POLICY_DENIED: …": Mayfly's code first, so a script can match it. */
    readonly error_description: string;
    readonly mayfly_code?: ErrorCode;
  };
}

/**
 * RFC 8693 §2.2.2: a subject token that is invalid or unacceptable is invalid_request; a target
 * the server will not issue for is invalid_target. Server faults say so (5xx) so that clients
 * retry them and not the refusals.
 */
const BY_CODE: Partial<Record<ErrorCode, { error: OAuthErrorCode; httpStatus: number }>> = {
  ERR_POLICY_DENIED: { error: 'invalid_target', httpStatus: 400 },
  ERR_APPROVAL_REJECTED: { error: 'invalid_target', httpStatus: 400 },
  ERR_NOT_FOUND: { error: 'invalid_target', httpStatus: 400 },
  ERR_RATE_LIMITED: { error: 'slow_down', httpStatus: 429 },
  ERR_DEPENDENCY_UNAVAILABLE: { error: 'temporarily_unavailable', httpStatus: 503 },
  ERR_DEADLINE_EXCEEDED: { error: 'temporarily_unavailable', httpStatus: 503 },
  ERR_INTERNAL: { error: 'server_error', httpStatus: 500 },
};

/** Fields whose fault is the target or the scope, not the request as a whole. */
const BY_FIELD: Readonly<Record<string, OAuthErrorCode>> = { resource: 'invalid_target', actions: 'invalid_scope' };

export function oauthErrorAnswer(error: OAuthError | MayflyError): OAuthErrorAnswer {
  const headers: Record<string, string> = {};
  if (error instanceof OAuthError) {
    return { httpStatus: error.httpStatus, headers, body: { error: error.error, error_description: printable(error.message) } };
  }
  const mapped = BY_CODE[error.code] ?? { error: (error.field !== undefined && BY_FIELD[error.field]) || 'invalid_request', httpStatus: error.status === GrpcStatus.INTERNAL ? 500 : 400 };
  if (error.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  return { httpStatus: mapped.httpStatus, headers, body: { error: mapped.error, error_description: printable(`${error.code}: ${error.message}`), mayfly_code: error.code } };
}

/** RFC 6749 §5.2: error_description is printable ASCII without '"' and '\'. */
function printable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}
