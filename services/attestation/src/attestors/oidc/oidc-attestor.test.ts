import { createServer } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MayflyError, sha256Hex } from '@mayfly/core';
import { isHighS } from '../jwt/signed-content.js';
import { OidcAttestor } from './oidc-attestor.js';
import type { TrustedIssuer } from '../trusted-issuers.js';

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
    kind: 'oidc',
    audiences: ['mayfly'],
    jwksUri: undefined,
    jwks: { keys: [jwk] },
    algorithms: ['ES256'],
    requireLowS: true,
    maxEvidenceLifetimeSeconds: 86_400,
    replayPolicy: 'single-use',
    trustDomain: undefined,
    caPem: undefined,
    ...rules,
  };
}

function attestor(rules: Partial<TrustedIssuer> = {}): OidcAttestor {
  const trusted = trustedIssuer(rules);
  return new OidcAttestor({ issuers: { find: async (iss) => (iss === ISSUER ? trusted : undefined), ofKind: async () => [trusted] }, clockToleranceSeconds: 0 });
}

type Overrides = { iss?: string; aud?: string; exp?: number; signWith?: CryptoKey; sub?: string; claims?: Record<string, unknown> };

async function evidence(overrides: Overrides = {}): Promise<string> {
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

async function signed(overrides: Overrides = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(overrides.claims ?? {})
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
    // An issuer trusted for several audiences accepts evidence for any one of them, and only those.
    await expect(attestor({ audiences: ['mayfly', 'mayfly-eu'] }).attest(await evidence({ aud: 'mayfly-eu' }))).resolves.toBeDefined();
    expect(await failure(await evidence({ aud: 'mayfly-us' }), { audiences: ['mayfly', 'mayfly-eu'] })).toContain('"aud"');
    expect(await failure(await evidence({ iss: 'https://evil.example' }))).toContain('not a trusted issuer');
    expect(await failure('not-a-jwt')).toContain('not a well-formed JWT');
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
        issuers: { find: async () => ({ ...trustedIssuer(), jwksUri: `http://127.0.0.1:${port}/jwks`, jwks: undefined }), ofKind: async () => [] },
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
      issuers: { find: async () => ({ ...trustedIssuer(), jwksUri: 'http://127.0.0.1:1/jwks', jwks: undefined }), ofKind: async () => [] },
      clockToleranceSeconds: 0,
    });
    await expect(plain.attest(await evidence())).rejects.toThrow(/plain http JWKS URL/);
  });
});

describe('OidcAttestor claim mapping, by issuer kind', () => {
  const projected = {
    'kubernetes.io': {
      namespace: 'payments',
      serviceaccount: { name: 'api', uid: 'sa-uid-1' },
      pod: { name: 'api-7d9f', uid: 'pod-uid-1' },
      node: { name: 'node-a', uid: 'node-uid' },
    },
  };

  it('maps a projected Kubernetes service-account token to namespace, service account, pod and node; trust domain from the registration', async () => {
    const token = await evidence({ sub: 'system:serviceaccount:payments:api', claims: projected });
    const subject = await attestor({ kind: 'kubernetes', trustDomain: 'example.org' }).attest(token);
    expect(subject.claims).toEqual({
      sub: 'system:serviceaccount:payments:api',
      namespace: 'payments',
      service_account: 'api',
      service_account_uid: 'sa-uid-1',
      pod_name: 'api-7d9f',
      pod_uid: 'pod-uid-1',
      node_name: 'node-a',
      trust_domain: 'example.org',
    });
    expect(subject.issuerKind).toBe('kubernetes');
  });

  it('refuses Kubernetes tokens that are not projected, or whose sub disagrees with their claims', async () => {
    expect(await failure(await evidence({ sub: 'system:serviceaccount:payments:api' }), { kind: 'kubernetes' })).toContain('not a projected Kubernetes service-account token');
    expect(await failure(await evidence({ sub: 'system:serviceaccount:kube-system:admin', claims: projected }), { kind: 'kubernetes' })).toContain('does not match');
    expect(await failure(await evidence({ sub: 'x', claims: { 'kubernetes.io': { namespace: 'payments' } } }), { kind: 'kubernetes' })).toContain('names no namespace or service account');
  });

  it('maps GitHub Actions claims, and nothing the catalog does not name; a token claiming trust_domain does not set it', async () => {
    const claims = { repository: 'acme/deployer', repository_owner: 'acme', ref: 'refs/heads/main', workflow: 'deploy', environment: 'prod', run_id: 4242, run_attempt: '1', sha: 'abc', trust_domain: 'evil.example', job_secret: 'nope' };
    const subject = await attestor({ kind: 'github-actions' }).attest(await evidence({ sub: 'repo:acme/deployer:environment:prod', claims }));
    expect(subject.claims).toEqual({ sub: 'repo:acme/deployer:environment:prod', repository: 'acme/deployer', repository_owner: 'acme', ref: 'refs/heads/main', workflow: 'deploy', environment: 'prod', run_id: '4242', run_attempt: '1', sha: 'abc' });
    expect(await failure(await evidence({ claims: { ref: 'refs/heads/main' } }), { kind: 'github-actions' })).toContain('not a GitHub Actions token');
  });

  it('maps GitLab CI claims and refuses a token that is not from a job', async () => {
    const claims = { project_path: 'acme/app', namespace_path: 'acme', ref: 'main', ref_type: 'branch', ref_protected: 'true', pipeline_id: '77', pipeline_source: 'push', environment: 'production', user_login: 'ana' };
    const subject = await attestor({ kind: 'gitlab-ci' }).attest(await evidence({ sub: 'project_path:acme/app:ref_type:branch:ref:main', claims }));
    expect(subject.claims).toMatchObject({ project_path: 'acme/app', ref: 'main', ref_type: 'branch', pipeline_id: '77', environment: 'production' });
    expect(await failure(await evidence({ claims: { ref: 'main' } }), { kind: 'gitlab-ci' })).toContain('not a GitLab CI ID token');
  });

  it('refuses a claim value with control characters, and an issuer registered for another kind of evidence', async () => {
    expect(await failure(await evidence({ claims: { repository: 'acme/x\u0007', run_id: 1 } }), { kind: 'github-actions' })).toContain('control characters');
    expect(await failure(await evidence(), { kind: 'x509' })).toContain('whose evidence is not an OIDC token');
  });
});
