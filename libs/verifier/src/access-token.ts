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
}

/** Reads the claims jose has already verified; undefined if a Mayfly claim is missing. */
export function readAccessTokenClaims(payload: JWTPayload): AccessTokenClaims | undefined {
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
    typeof taskId !== 'string'
  ) {
    return undefined;
  }
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
  };
}
