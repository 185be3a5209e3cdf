import { errors } from 'jose';

/** Why a verifier refused a token. Stable codes: switch on these, not on messages. */
export type RejectionCode =
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_TOKEN_CONSUMED'
  | 'ERR_SINGLE_USE_UNAVAILABLE'
  | 'ERR_SCOPE_NOT_GRANTED'
  | 'ERR_TOKEN_BINDING'
  | 'ERR_UNKNOWN_KEY'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_REVOCATION_FEED_NOT_READY'
  | 'ERR_REVOCATION_FEED_RESYNCING'
  | 'ERR_REVOCATION_FEED_STALE'
  | 'ERR_REVOCATION_FEED_FAILED'
  | 'ERR_REVOCATION_SET_FULL';

export interface Rejection {
  readonly ok: false;
  readonly code: RejectionCode;
  readonly message: string;
}

export function reject(code: RejectionCode, message: string): Rejection {
  return { ok: false, code, message };
}

/** Maps a jose verification error to a rejection. */
export function rejectionFromJose(error: unknown): Rejection {
  if (error instanceof errors.JWTExpired) return reject('ERR_TOKEN_EXPIRED', 'token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return reject('ERR_TOKEN_AUDIENCE', 'token is not for this resource (aud mismatch)');
      case 'iss':
        return reject('ERR_TOKEN_ISSUER', 'token was not issued by the trusted issuer');
      case 'typ':
        return reject('ERR_TOKEN_TYPE', 'token is not an access token (typ must be at+jwt)');
      case 'nbf':
      case 'iat':
        return reject('ERR_TOKEN_NOT_YET_VALID', `token is not valid yet (${error.claim})`);
      default:
        return reject('ERR_TOKEN_CLAIMS', `token claim "${error.claim}" is invalid: ${error.reason}`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return reject('ERR_TOKEN_SIGNATURE', 'token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey) return reject('ERR_UNKNOWN_KEY', 'token is signed by a key the issuer does not publish');
  if (error instanceof errors.JWKSTimeout) return reject('ERR_JWKS_UNAVAILABLE', 'issuer JWKS did not answer in time');
  if (error instanceof errors.JOSEAlgNotAllowed) return reject('ERR_TOKEN_SIGNATURE', 'token algorithm is not allowed');
  if (error instanceof errors.JOSEError) return reject('ERR_TOKEN_MALFORMED', `token is malformed (${error.code})`);
  return reject('ERR_JWKS_UNAVAILABLE', `cannot verify the token now: ${(error as Error).message}`);
}
