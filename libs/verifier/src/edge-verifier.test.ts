import { randomUUID } from 'node:crypto';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { FeedState } from '@mayfly/bus';
import { MayflyError } from '@mayfly/core';
import { RevocationEvent, RevocationScope } from '@mayfly/proto';
import { EdgeVerifier, certificateThumbprint, type RevocationFeed } from './edge-verifier.js';

/**
 * EdgeVerifier.verify over a local key set and a feed in hand: each refusal the edge owes, one at
 * a time, without the mesh. The token is signed the way issuance signs (EdDSA, typ at+jwt).
 */
const ISSUER = 'https://issuance.test';
const WORKLOAD = 'spiffe://example.org/ci/builder';
const AUDIENCE = 'pg:orders-db';

async function signer() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  const sign = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ISSUER, sub: WORKLOAD, aud: AUDIENCE, jti: TOKEN, iat: now, exp: now + 300, scope: 'read write', grant_id: GRANT, task_id: 'job-1', ...claims };
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1', ...header }).sign(privateKey);
  };
  return { keys: createLocalJWKSet({ keys: [jwk] }), sign };
}

const GRANT = randomUUID();
const TOKEN = randomUUID();

/** A feed whose state the test sets, and which hands the test the verifier's apply(). */
function feedInHand(initial: FeedState = 'live') {
  const hand = { state: initial, apply: (_event: RevocationEvent): void => undefined };
  const follow = (apply: (event: RevocationEvent) => void): RevocationFeed => {
    hand.apply = apply;
    return { state: () => hand.state, isCaughtUp: () => hand.state === 'live', caughtUp: Promise.resolve(), stop: async () => undefined };
  };
  return { hand, follow };
}

async function edge(options: { state?: FeedState; consume?: (token: { grantId: string }) => Promise<void> } = {}) {
  const { keys, sign } = await signer();
  const { hand, follow } = feedInHand(options.state);
  const verifier = EdgeVerifier.over({ issuer: ISSUER, clockToleranceSeconds: 0, maxTokenLifetimeSeconds: 3600, consumeSingleUse: options.consume }, keys, follow);
  return { verifier, sign, hand };
}

const codeOf = (result: Awaited<ReturnType<EdgeVerifier['verify']>>) => (result.ok ? 'accepted' : result.code);

describe('EdgeVerifier.verify', () => {
  it('accepts a token of its issuer for its audience and a granted action (the positive control)', async () => {
    const { verifier, sign } = await edge();
    const result = await verifier.verify(await sign(), { audience: AUDIENCE, action: 'read' });
    expect(result).toMatchObject({ ok: true, claims: { spiffeId: WORKLOAD, grantId: GRANT, scopes: ['read', 'write'] } });
    await verifier.close();
  });

  it('refuses every token while the feed is not live: catching up, or stale', async () => {
    for (const state of ['catching-up', 'stale'] as const) {
      const { verifier, sign } = await edge({ state });
      expect(codeOf(await verifier.verify(await sign(), { audience: AUDIENCE }))).not.toBe('accepted');
      await verifier.close();
    }
  });

  it('refuses a token the moment its grant is revoked on the feed, and only that grant', async () => {
    const { verifier, sign, hand } = await edge();
    const token = await sign();
    expect(codeOf(await verifier.verify(token, { audience: AUDIENCE }))).toBe('accepted');
    hand.apply(RevocationEvent.fromPartial({ id: 'r1', grantId: GRANT, tokenId: randomUUID(), scope: RevocationScope.REVOCATION_SCOPE_GRANT, notAfter: new Date(Date.now() + 600_000) }));
    expect(codeOf(await verifier.verify(token, { audience: AUDIENCE }))).toBe('ERR_TOKEN_REVOKED');
    const other = await sign({ grant_id: randomUUID() });
    expect(codeOf(await verifier.verify(other, { audience: AUDIENCE }))).toBe('accepted');
    await verifier.close();
  });

  it('refuses a wrong audience, an action outside the scope, an expired token and another issuer', async () => {
    const { verifier, sign } = await edge();
    expect(codeOf(await verifier.verify(await sign(), { audience: 'pg:other-db' }))).toBe('ERR_TOKEN_AUDIENCE');
    expect(codeOf(await verifier.verify(await sign(), { audience: AUDIENCE, action: 'delete' }))).toBe('ERR_SCOPE_NOT_GRANTED');
    const past = Math.floor(Date.now() / 1000) - 600;
    expect(codeOf(await verifier.verify(await sign({ iat: past, exp: past + 60 }), { audience: AUDIENCE }))).toMatch(/^ERR_TOKEN_(EXPIRED|INVALID)$/);
    expect(codeOf(await verifier.verify(await sign({ iss: 'https://evil.test' }), { audience: AUDIENCE }))).not.toBe('accepted');
    expect(codeOf(await verifier.verify(await sign({}, { alg: 'EdDSA', typ: 'JWT' }), { audience: AUDIENCE }))).not.toBe('accepted');
    await verifier.close();
  });

  it("refuses a token signed by another key, and one whose claims were edited after signing", async () => {
    const { verifier, sign } = await edge();
    const stranger = await signer();
    expect(codeOf(await verifier.verify(await stranger.sign(), { audience: AUDIENCE }))).not.toBe('accepted');
    const [header, payload, signature] = (await sign()).split('.') as [string, string, string];
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'read write admin' })).toString('base64url');
    expect(codeOf(await verifier.verify(`${header}.${widened}.${signature}`, { audience: AUDIENCE, action: 'admin' }))).not.toBe('accepted');
    await verifier.close();
  });

  it('holds a certificate-bound token to exactly that certificate', async () => {
    const { verifier, sign } = await edge();
    const certificate = new Uint8Array([1, 2, 3, 4]);
    const bound = await sign({ cnf: { 'x5t#S256': certificateThumbprint(certificate) } });
    expect(codeOf(await verifier.verify(bound, { audience: AUDIENCE }))).toBe('ERR_TOKEN_BINDING');
    expect(codeOf(await verifier.verify(bound, { audience: AUDIENCE, peerCertificate: new Uint8Array([9, 9]) }))).toBe('ERR_TOKEN_BINDING');
    expect(codeOf(await verifier.verify(bound, { audience: AUDIENCE, peerCertificate: certificate }))).toBe('accepted');
    await verifier.close();
  });

  it('accepts a single-use token once: consumed at the revocation service, refused when it was consumed already or cannot be', async () => {
    const consumed = new Set<string>();
    const { verifier, sign } = await edge({
      consume: async ({ grantId }) => {
        if (consumed.has(grantId)) throw new MayflyError('ERR_TOKEN_CONSUMED', 'used');
        consumed.add(grantId);
      },
    });
    const once = await sign({ single_use: true });
    expect(codeOf(await verifier.verify(once, { audience: AUDIENCE }))).toBe('accepted');
    expect(codeOf(await verifier.verify(once, { audience: AUDIENCE }))).toBe('ERR_TOKEN_CONSUMED');
    const unreachable = await edge({ consume: async () => Promise.reject(new Error('revocation service away')) });
    expect(codeOf(await unreachable.verifier.verify(await unreachable.sign({ single_use: true }), { audience: AUDIENCE }))).toBe('ERR_SINGLE_USE_UNAVAILABLE');
    await verifier.close();
    await unreachable.verifier.close();
  });

  it('fails closed on a revocation event of a scope it does not know', async () => {
    const { verifier, sign, hand } = await edge();
    hand.apply(RevocationEvent.fromPartial({ id: 'r2', scope: 99 as RevocationScope, notAfter: new Date(Date.now() + 600_000) }));
    expect(codeOf(await verifier.verify(await sign(), { audience: AUDIENCE }))).not.toBe('accepted');
    await verifier.close();
  });
});
