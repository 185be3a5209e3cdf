import type { JWTPayload } from 'jose';

/** The claims of a Mayfly access token (RFC 9068 shape) that an edge acts on. */
export interface AccessTokenClaims {
  readonly issuer: string;
  readonly spiffeId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly tokenId: string;
  readonly grantId: string;
  readonly taskId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** cnf.x5t#S256: the token may be used only by the holder of this certificate (RFC 8705). */
  readonly certificateThumbprint: string | undefined;
  /** The kid of the key that signed it (from the protected header). */
  readonly keyId: string | undefined;
  /** single_use: the first edge that accepts it consumes it. */
  readonly singleUse: boolean;
}

const SPIFFE_ID = /^spiffe:\/\/[a-z0-9.-]{1,255}(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;

/** A well-formed SPIFFE ID (no NUL, no spaces, a trust domain and a path), as Mayfly issues them. */
export function isSpiffeId(value: string): boolean {
  return value.length <= 2048 && SPIFFE_ID.test(value);
}

/**
 * Reads the claims whose signature has been verified; undefined if a Mayfly claim is missing or
 * malformed. Defence in depth: issuance never signs a malformed sub, but an edge checks anyway.
 */
export function readAccessTokenClaims(payload: JWTPayload, keyId?: string): AccessTokenClaims | undefined {
  const { iss, sub, aud, jti, exp, iat } = payload;
  const scope = payload['scope'];
  const grantId = payload['grant_id'];
  const taskId = payload['task_id'];
  if (
    typeof iss !== 'string' ||
    typeof sub !== 'string' ||
    typeof aud !== 'string' ||
    typeof jti !== 'string' ||
    typeof exp !== 'number' ||
    typeof iat !== 'number' ||
    typeof scope !== 'string' ||
    typeof grantId !== 'string' ||
    typeof taskId !== 'string' ||
    !isSpiffeId(sub)
  ) {
    return undefined;
  }
  const cnf = payload['cnf'];
  const thumbprint = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (cnf !== undefined && typeof thumbprint !== 'string') return undefined; // a binding we cannot check is no binding to ignore
  return {
    issuer: iss,
    spiffeId: sub,
    audience: aud,
    scopes: scope.split(' ').filter((s) => s.length > 0),
    tokenId: jti,
    grantId,
    taskId,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
    certificateThumbprint: thumbprint as string | undefined,
    keyId,
    singleUse: payload['single_use'] === true,
  };
}
