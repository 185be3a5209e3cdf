import { KeyObject, verify } from 'node:crypto';
import { reject, type Rejection } from './rejection.js';

export interface DecodedJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The exact bytes that were signed: base64url(header) "." base64url(payload). */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
export const MAX_TOKEN_LENGTH = 16 * 1024;

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and decodes a compact JWS. Nothing is trusted yet: the signature is not checked here. */
export function decodeCompactJws(token: string): DecodedJws | Rejection {
  if (token.length > MAX_TOKEN_LENGTH) return reject('ERR_TOKEN_MALFORMED', 'token is too large');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return reject('ERR_TOKEN_MALFORMED', 'token is not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader);
  const payload = decodeJson(encodedPayload);
  if (!header || !payload) return reject('ERR_TOKEN_MALFORMED', 'token header or payload is not a JSON object');
  return {
    header,
    payload,
    signingInput: Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'),
    signature: Buffer.from(encodedSignature, 'base64url'),
  };
}

/**
 * Header rules for Mayfly access tokens (RFC 8725): an explicit algorithm from the allow-list,
 * typ at+jwt (RFC 9068), a kid, and no "crit" (no extension is understood, so none may be required).
 */
export function checkAccessTokenHeader(header: Record<string, unknown>, allowedAlgorithms: readonly string[]): Rejection | undefined {
  if (typeof header['alg'] !== 'string' || !allowedAlgorithms.includes(header['alg'])) {
    return reject('ERR_TOKEN_SIGNATURE', `token algorithm ${JSON.stringify(header['alg'])} is not allowed`);
  }
  const typ = typeof header['typ'] === 'string' ? header['typ'].toLowerCase() : '';
  if (typ !== 'at+jwt' && typ !== 'application/at+jwt') return reject('ERR_TOKEN_TYPE', 'token is not an access token (typ must be at+jwt)');
  if ('crit' in header) return reject('ERR_TOKEN_MALFORMED', 'token has a "crit" header, which Mayfly does not support');
  if (typeof header['kid'] !== 'string' || header['kid'].length === 0) return reject('ERR_TOKEN_MALFORMED', 'token has no kid');
  return undefined;
}

/** Checks an Ed25519 signature with node:crypto, synchronously. The key must be an Ed25519 key. */
export function verifyEd25519(jws: DecodedJws, key: KeyObject): Rejection | undefined {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') return reject('ERR_TOKEN_SIGNATURE', 'the key for this kid is not an Ed25519 key');
  if (jws.signature.length !== 64) return reject('ERR_TOKEN_SIGNATURE', 'token signature is invalid');
  return verify(null, jws.signingInput, key, jws.signature) ? undefined : reject('ERR_TOKEN_SIGNATURE', 'token signature is invalid');
}

/** Issuer and time claims, with a bounded clock tolerance (seconds). */
export function checkIssuerAndTimes(payload: Record<string, unknown>, issuer: string, toleranceSeconds: number, nowMs = Date.now()): Rejection | undefined {
  const now = nowMs / 1000;
  if (payload['iss'] !== issuer) return reject('ERR_TOKEN_ISSUER', 'token was not issued by the trusted issuer');
  const { exp, iat, nbf } = payload;
  if (typeof exp !== 'number' || typeof iat !== 'number') return reject('ERR_TOKEN_CLAIMS', 'token lacks exp or iat');
  if (exp + toleranceSeconds <= now) return reject('ERR_TOKEN_EXPIRED', 'token has expired');
  if (iat - toleranceSeconds > now) return reject('ERR_TOKEN_NOT_YET_VALID', 'token is not valid yet (iat)');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - toleranceSeconds > now)) return reject('ERR_TOKEN_NOT_YET_VALID', 'token is not valid yet (nbf)');
  return undefined;
}
