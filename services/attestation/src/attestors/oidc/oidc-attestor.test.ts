import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MayflyError, sha256Hex } from '@mayfly/core';
import { OidcAttestor } from './oidc-attestor.js';
import type { TrustedIssuer } from './trusted-issuers.js';

const ISSUER = 'https://issuer.example';
let key: CryptoKey;
let otherKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});

function attestor(): OidcAttestor {
  const trusted: TrustedIssuer = { issuer: ISSUER, audience: 'mayfly', jwksUri: undefined, jwks: { keys: [jwk] }, algorithms: ['ES256'] };
  return new OidcAttestor({ issuers: { find: async (iss) => (iss === ISSUER ? trusted : undefined) }, clockToleranceSeconds: 0 });
}

async function evidence(overrides: { iss?: string; aud?: string; exp?: number; signWith?: CryptoKey; sub?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(overrides.iss ?? ISSUER)
    .setAudience(overrides.aud ?? 'mayfly')
    .setSubject(overrides.sub ?? 'system:serviceaccount:ci:builder')
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + 60)
    .sign(overrides.signWith ?? key);
}

async function failure(token: string): Promise<string> {
  try {
    await attestor().attest(token);
  } catch (error) {
    expect(error).toBeInstanceOf(MayflyError);
    expect((error as MayflyError).code).toBe('ERR_ATTESTATION_FAILED');
    return (error as MayflyError).message;
  }
  throw new Error('attestation unexpectedly succeeded');
}

describe('OidcAttestor', () => {
  it('accepts evidence from a trusted issuer and reports issuer, subject, expiry and digest', async () => {
    const token = await evidence();
    const subject = await attestor().attest(token);
    expect(subject).toMatchObject({ attestor: 'oidc', issuer: ISSUER, subject: 'system:serviceaccount:ci:builder', evidenceDigest: sha256Hex(token) });
  });

  it('refuses, saying why: signature, expiry, audience, issuer, shape', async () => {
    expect(await failure(await evidence({ signWith: otherKey }))).toContain('signature is invalid');
    expect(await failure(await evidence({ exp: Math.floor(Date.now() / 1000) - 10 }))).toContain('expired');
    expect(await failure(await evidence({ aud: 'someone-else' }))).toContain('"aud"');
    expect(await failure(await evidence({ iss: 'https://evil.example' }))).toContain('not a trusted issuer');
    expect(await failure('not-a-jwt')).toContain('not a well-formed JWT');
  });

  it('refuses alg "none"', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: 'mayfly', sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    expect(await failure(`${header}.${payload}.`)).toMatch(/attestation failed/);
  });
});
