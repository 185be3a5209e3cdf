import { createServer } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MayflyError, sha256Hex } from '@mayfly/core';
import { isHighS } from './signed-content.js';
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

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function trustedIssuer(rules: Partial<TrustedIssuer> = {}): TrustedIssuer {
  return {
    issuer: ISSUER,
    audience: 'mayfly',
    jwksUri: undefined,
    jwks: { keys: [jwk] },
    algorithms: ['ES256'],
    requireLowS: true,
    maxEvidenceLifetimeSeconds: 86_400,
    replayPolicy: 'single-use',
    ...rules,
  };
}

function attestor(rules: Partial<TrustedIssuer> = {}): OidcAttestor {
  const trusted = trustedIssuer(rules);
  return new OidcAttestor({ issuers: { find: async (iss) => (iss === ISSUER ? trusted : undefined) }, clockToleranceSeconds: 0 });
}

async function evidence(overrides: { iss?: string; aud?: string; exp?: number; signWith?: CryptoKey; sub?: string } = {}): Promise<string> {
  return lowS(await signed(overrides));
}

/** The other of the two valid ECDSA signatures over the same content: (r, n − s). */
function twin(token: string): string {
  const [h, p, sig] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(sig, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const twinS = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${Buffer.concat([bytes.subarray(0, 32), twinS]).toString('base64url')}`;
}

/** Normalises to the low-S signature, as a careful issuer does. */
function lowS(token: string): string {
  const sig = Buffer.from(token.split('.')[2]!, 'base64url');
  return isHighS('ES256', sig) ? twin(token) : token;
}

async function signed(overrides: { iss?: string; aud?: string; exp?: number; signWith?: CryptoKey; sub?: string } = {}): Promise<string> {
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

async function failure(token: string, rules: Partial<TrustedIssuer> = {}): Promise<string> {
  try {
    await attestor(rules).attest(token);
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
    const [header, payload] = token.split('.');
    expect(subject).toMatchObject({ attestor: 'oidc', issuer: ISSUER, subject: 'system:serviceaccount:ci:builder', evidenceDigest: sha256Hex(`${header}.${payload}`) });
  });

  it('refuses a signature respelled in the unused bits of its last base64url character', async () => {
    const token = await evidence();
    // 64 signature bytes: the last of 86 characters carries 2 bits the decoder ignores.
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
    expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    expect(await failure(respelled)).toContain('not canonical base64url');
  });

  it('refuses the high-S twin of a signature; with low-S not required, the twin is the same evidence', async () => {
    const token = await evidence();
    expect(await failure(twin(token))).toContain('high-S');
    const lenient = attestor({ requireLowS: false });
    const original = await lenient.attest(token);
    const mirrored = await lenient.attest(twin(token));
    expect(mirrored.evidenceDigest).toBe(original.evidenceDigest); // so replay detection sees one token
  });

  it('refuses a subject with a NUL byte, and an overlong issuer, as attestation failures', async () => {
    expect(await failure(await evidence({ sub: 'system:serviceaccount:ci:\u0000builder' }))).toContain('control character');
    expect(await failure(await evidence({ iss: `https://${'i'.repeat(600)}` }))).toContain('longer than 512');
  });

  it("refuses evidence valid for longer than the issuer's maximum", async () => {
    const now = Math.floor(Date.now() / 1000);
    const message = await failure(await evidence({ exp: now + 3_600 }), { maxEvidenceLifetimeSeconds: 600 });
    expect(message).toContain("longer than this issuer's maximum of 600 s");
    await expect(attestor({ maxEvidenceLifetimeSeconds: 600 }).attest(await evidence({ exp: now + 300 }))).resolves.toBeDefined();
  });

  it('refuses, saying why: signature, expiry, audience, issuer, shape', async () => {
    expect(await failure(await evidence({ signWith: otherKey }))).toContain('signature is invalid');
    expect(await failure(await evidence({ exp: Math.floor(Date.now() / 1000) - 10 }))).toContain('expired');
    expect(await failure(await evidence({ aud: 'someone-else' }))).toContain('"aud"');
    expect(await failure(await evidence({ iss: 'https://evil.example' }))).toContain('not a trusted issuer');
    expect(await failure('not-a-jwt')).toContain('not a compact JWS');
  });

  it('refuses alg "none"', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: 'mayfly', sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    expect(await failure(`${header}.${payload}.`)).toMatch(/attestation failed/);
  });

  it("gives up on an issuer's JWKS that does not answer, after its 2 s timeout, and says so", async () => {
    const hanging = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const address = hanging.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const slow = new OidcAttestor({
        issuers: { find: async () => ({ ...trustedIssuer(), jwksUri: `http://127.0.0.1:${port}/jwks`, jwks: undefined }) },
        clockToleranceSeconds: 0,
        jwksFetch: { allowHttp: true },
      });
      const started = Date.now();
      await expect(slow.attest(await evidence())).rejects.toThrow(/did not answer in time/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  it('refuses an issuer registered with an http JWKS URL outside development mode', async () => {
    const plain = new OidcAttestor({
      issuers: { find: async () => ({ ...trustedIssuer(), jwksUri: 'http://127.0.0.1:1/jwks', jwks: undefined }) },
      clockToleranceSeconds: 0,
    });
    await expect(plain.attest(await evidence())).rejects.toThrow(/plain http JWKS URL/);
  });
});
