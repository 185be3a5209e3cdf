import { ACCESS_TOKEN_ALGORITHMS } from '@mayfly/core';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkAccessTokenHeader, checkIssuerAndTimes, decodeCompactJws, verifyEd25519 } from './compact-jws.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function token(header: Record<string, unknown>, payload: Record<string, unknown>, key = privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

const header = { alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' };
const now = 1_800_000_000;
const payload = { iss: 'https://mayfly', sub: 'spiffe://x/y', aud: 'pg:db', iat: now, exp: now + 60, jti: 'j' };

function decoded(t: string) {
  const result = decodeCompactJws(t);
  if ('ok' in result) throw new Error(result.message);
  return result;
}

describe('compact JWS checks', () => {
  it('accepts a well-formed, correctly signed Mayfly access token', () => {
    const jws = decoded(token(header, payload));
    expect(checkAccessTokenHeader(jws.header, ['EdDSA'])).toBeUndefined();
    expect(verifyEd25519(jws, publicKey)).toBeUndefined();
    expect(checkIssuerAndTimes(jws.payload, 'https://mayfly', 5, now * 1000)).toBeUndefined();
  });

  it('refuses a signature by another key, a tampered payload, and a truncated signature', () => {
    expect(verifyEd25519(decoded(token(header, payload, other.privateKey)), publicKey)?.code).toBe('ERR_TOKEN_SIGNATURE');
    const [h, , s] = token(header, payload).split('.');
    expect(verifyEd25519(decoded(`${h}.${b64({ ...payload, sub: 'spiffe://x/admin' })}.${s}`), publicKey)?.code).toBe('ERR_TOKEN_SIGNATURE');
    expect(verifyEd25519(decoded(`${h}.${b64(payload)}.${s!.slice(0, 20)}`), publicKey)?.code).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('refuses a key of the wrong type for the algorithm', () => {
    expect(verifyEd25519(decoded(token(header, payload)), ecKey.publicKey)?.code).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('refuses alg none, algorithms off the list, missing typ, crit and missing kid (RFC 8725)', () => {
    expect(checkAccessTokenHeader({ ...header, alg: 'none' }, ['EdDSA'])?.code).toBe('ERR_TOKEN_SIGNATURE');
    expect(checkAccessTokenHeader({ ...header, alg: 'HS256' }, ['EdDSA'])?.code).toBe('ERR_TOKEN_SIGNATURE');
    expect(checkAccessTokenHeader({ ...header, typ: 'JWT' }, ['EdDSA'])?.code).toBe('ERR_TOKEN_TYPE');
    expect(checkAccessTokenHeader({ ...header, crit: ['exp'] }, ['EdDSA'])?.code).toBe('ERR_TOKEN_MALFORMED');
    expect(checkAccessTokenHeader({ alg: 'EdDSA', typ: 'at+jwt' }, ['EdDSA'])?.code).toBe('ERR_TOKEN_MALFORMED');
  });

  it('under the crypto policy, accepts only the algorithm issuance signs with: an ES256 token is refused (the edge allowed it before)', () => {
    expect(ACCESS_TOKEN_ALGORITHMS).toEqual(['EdDSA']);
    expect(checkAccessTokenHeader({ ...header, alg: 'ES256' }, ACCESS_TOKEN_ALGORITHMS)?.code).toBe('ERR_TOKEN_SIGNATURE');
    expect(checkAccessTokenHeader(header, ACCESS_TOKEN_ALGORITHMS)).toBeUndefined();
  });

  it('refuses malformed and oversized tokens before any crypto', () => {
    expect(decodeCompactJws('a.b')).toMatchObject({ ok: false, code: 'ERR_TOKEN_MALFORMED' });
    expect(decodeCompactJws('a.b.c$')).toMatchObject({ ok: false, code: 'ERR_TOKEN_MALFORMED' });
    expect(decodeCompactJws(`${b64([1])}.${b64(payload)}.`)).toMatchObject({ ok: false, code: 'ERR_TOKEN_MALFORMED' });
    expect(decodeCompactJws('a'.repeat(20_000))).toMatchObject({ ok: false, code: 'ERR_TOKEN_MALFORMED' });
  });

  it('checks issuer, expiry, iat and nbf with bounded clock tolerance', () => {
    const at = (seconds: number) => seconds * 1000;
    expect(checkIssuerAndTimes({ ...payload, iss: 'https://evil' }, 'https://mayfly', 5, at(now))?.code).toBe('ERR_TOKEN_ISSUER');
    expect(checkIssuerAndTimes(payload, 'https://mayfly', 5, at(now + 64))).toBeUndefined();
    expect(checkIssuerAndTimes(payload, 'https://mayfly', 5, at(now + 65))?.code).toBe('ERR_TOKEN_EXPIRED');
    expect(checkIssuerAndTimes({ ...payload, iat: now + 30 }, 'https://mayfly', 5, at(now))?.code).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(checkIssuerAndTimes({ ...payload, nbf: now + 30 }, 'https://mayfly', 5, at(now))?.code).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(checkIssuerAndTimes({ ...payload, exp: '2030' }, 'https://mayfly', 5, at(now))?.code).toBe('ERR_TOKEN_CLAIMS');
  });
});
