import { describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { MayflyError } from '@mayfly/core';
import { HumanIdentityProvider } from './human-identity.js';
import { checkMayAnswer } from '../domain/separation-of-duties.js';

const ISSUER = 'https://people.example.com';
const AUDIENCE = 'mayfly-approvals';
const { privateKey, publicKey } = await generateKeyPair('EdDSA');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' };
const people = new HumanIdentityProvider({ issuer: ISSUER, audience: AUDIENCE, keys: { jwks: { keys: [jwk] } }, maxAgeSeconds: 600 });

function idToken(claims: JWTPayload, options: { iat?: number; audience?: string | string[] } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ groups: ['sre'], ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime((options.iat ?? now) + 3_600)
    .sign(privateKey);
}

async function refusal(token: Promise<string>): Promise<string | undefined> {
  try {
    await people.verify(await token);
    return undefined;
  } catch (error) {
    return error instanceof MayflyError ? `${error.code}: ${error.message}` : String(error);
  }
}

// Red team (issue 20, point 2): the same sub with and without an email claim, or with
// ALICE@Example.com, counted as two approvers and issued a production write.
describe('a person is (issuer, sub)', () => {
  it('is the same person with or without an email, in any case', async () => {
    const plain = await people.verify(await idToken({ sub: 'u-alice' }));
    const withEmail = await people.verify(await idToken({ sub: 'u-alice', email: 'alice@example.com', email_verified: true }));
    const shouting = await people.verify(await idToken({ sub: 'u-alice', email: ' ALICE@Example.com ', email_verified: true }));
    expect(new Set([plain.id, withEmail.id, shouting.id])).toEqual(new Set([`${ISSUER}#u-alice`]));
    expect(withEmail.email).toBe('alice@example.com');
    expect(shouting.email).toBe('alice@example.com');
    expect(plain.email).toBeUndefined();
  });

  it('is another person with another sub, whatever email they claim', async () => {
    const alice = await people.verify(await idToken({ sub: 'u-alice', email: 'alice@example.com', email_verified: true }));
    const other = await people.verify(await idToken({ sub: 'alice@example.com' }));
    expect(other.id).not.toBe(alice.id);
  });

  it('refuses an email that is not verified', async () => {
    expect(await refusal(idToken({ sub: 'u-alice', email: 'alice@example.com' }))).toMatch(/ERR_TOKEN_INVALID: .*not verified/);
    expect(await refusal(idToken({ sub: 'u-alice', email: 'alice@example.com', email_verified: 'true' }))).toMatch(/not verified/);
  });

  it('refuses a token issued to another client (azp), or to several audiences with no azp', async () => {
    expect(await refusal(idToken({ sub: 'u-alice', azp: 'grafana' }))).toMatch(/ERR_TOKEN_INVALID: .*the client "grafana"/);
    expect(await refusal(idToken({ sub: 'u-alice' }, { audience: [AUDIENCE, 'grafana'] }))).toMatch(/several audiences/);
    expect(await refusal(idToken({ sub: 'u-alice', azp: AUDIENCE }, { audience: [AUDIENCE, 'grafana'] }))).toBeUndefined();
  });

  it('refuses an ID token issued longer ago than the configured age, however long it is valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(idToken({ sub: 'u-alice' }, { iat: now - 601 }))).toMatch(/ERR_TOKEN_INVALID: .*issued more than 600 s ago/);
    expect(await refusal(idToken({ sub: 'u-alice' }, { iat: now - 500 }))).toBeUndefined();
  });

  it('compares the owner contact with the verified email, trimmed and case-folded', async () => {
    const owner = await people.verify(await idToken({ sub: 'u-owner', email: 'Owner@Example.com', email_verified: true }));
    const parties = { approverGroups: ['sre'], workloadChain: ['spiffe://example.org/app'], ownerTeam: 'payments', ownerContact: '  owner@example.COM ' };
    expect(() => checkMayAnswer(owner, parties)).toThrow(/owns the requesting workload/);
  });
});
