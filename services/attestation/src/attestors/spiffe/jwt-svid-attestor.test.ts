import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrustedIssuer } from '../trusted-issuers.js';
import { JwtSvidAttestor } from './jwt-svid-attestor.js';

let key: CryptoKey;
let jwk: JWK;
let strangerKey: CryptoKey;
let x509Authority: JWK;
let x509AuthorityKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'bundle-1', use: 'jwt-svid' };
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const authority = await generateKeyPair('ES256', { extractable: true });
  x509Authority = { ...(await exportJWK(authority.publicKey)), kid: 'bundle-1' };
  x509AuthorityKey = authority.privateKey;
});

const bundle = (): TrustedIssuer => ({
  issuer: 'spiffe://partner.example',
  kind: 'spiffe',
  audiences: ['mayfly'],
  jwksUri: undefined,
  // A SPIFFE bundle: the JWT-SVID key, and an X.509 authority that must not verify JWTs.
  jwks: { keys: [jwk, { ...x509Authority, use: 'x509-svid' }] },
  algorithms: ['ES256'],
  requireLowS: false,
  maxEvidenceLifetimeSeconds: 3600,
  replayPolicy: 'single-use',
  trustDomain: 'partner.example',
  caPem: undefined,
});

const attestor = (trusted: TrustedIssuer | undefined = bundle()) =>
  new JwtSvidAttestor({ issuers: { find: async (name) => (name === trusted?.issuer ? trusted : undefined), ofKind: async () => [] }, clockToleranceSeconds: 0 });

async function jwtSvid(sub: string, more: { aud?: string; signWith?: CryptoKey } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'bundle-1', typ: 'JWT' })
    .setSubject(sub)
    .setAudience(more.aud ?? 'mayfly')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(more.signWith ?? key);
}

describe('JwtSvidAttestor', () => {
  it("accepts a JWT-SVID signed by its trust domain's bundle (no iss needed): the SPIFFE ID and its parts as claims", async () => {
    const subject = await attestor().attest(await jwtSvid('spiffe://partner.example/billing/api'));
    expect(subject).toMatchObject({ attestor: 'spiffe-jwt', issuer: 'spiffe://partner.example', issuerKind: 'spiffe', subject: 'spiffe://partner.example/billing/api' });
    expect(subject.claims).toEqual({ sub: 'spiffe://partner.example/billing/api', spiffe_id: 'spiffe://partner.example/billing/api', trust_domain: 'partner.example', path: '/billing/api' });
  });

  it('refuses an untrusted trust domain, a key outside the bundle, another audience, and a sub that is not a SPIFFE ID', async () => {
    await expect(attestor().attest(await jwtSvid('spiffe://evil.example/billing/api'))).rejects.toThrow(/trust domain evil.example is not trusted/);
    await expect(attestor().attest(await jwtSvid('spiffe://partner.example/billing/api', { signWith: strangerKey }))).rejects.toThrow(/signature is invalid/);
    await expect(attestor().attest(await jwtSvid('spiffe://partner.example/billing/api', { aud: 'other' }))).rejects.toThrow(/"aud"/);
    await expect(attestor().attest(await jwtSvid('billing-api'))).rejects.toThrow(/not a SPIFFE ID/);
    // The bundle's X.509 authority (same kid) does not verify JWT-SVIDs.
    await expect(attestor().attest(await jwtSvid('spiffe://partner.example/billing/api', { signWith: x509AuthorityKey }))).rejects.toThrow(/signature is invalid/);
  });

  it('refuses a JWT-SVID whose trust domain is registered as another kind of issuer', async () => {
    await expect(attestor({ ...bundle(), kind: 'oidc' }).attest(await jwtSvid('spiffe://partner.example/billing/api'))).rejects.toThrow(/register its JWT bundle as issuer spiffe:\/\/partner.example of kind spiffe/);
  });
});
