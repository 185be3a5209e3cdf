import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import { applyKeyringChange, generateEd25519Entry, planGenerate, planPromote, planRemove, publicKeyOf, readKeyringDirectory } from '@mayfly/keyring';
import { JwtAccessTokenFormat } from './jwt-access-token.js';
import { SigningKeyring } from './signing-keyring.js';

const log = createLogger('test', { level: 'silent' });
const retention = { maxTokenTtlSeconds: 3600, graceSeconds: 300 };
const claims = {
  spiffeId: 'spiffe://example.org/ci/builder',
  audience: 'pg:orders-db',
  scopes: ['read', 'write'],
  tokenId: '0b8d3c2a-1e4f-4a5b-8c6d-7e8f9a0b1c2d',
  grantId: '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01',
  taskId: 'job-1',
  issuedAt: new Date(),
  expiresAt: new Date(Date.now() + 60_000),
};

/** A keyring directory with one active key. */
function keyringDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'issuance-keyring-'));
  applyKeyringChange(dir, planGenerate([], generateEd25519Entry(new Date())));
  return dir;
}

describe('JwtAccessTokenFormat', () => {
  it('mints RFC 9068 tokens a standard JWT library verifies, bound to a certificate when asked', async () => {
    const dir = keyringDir();
    const [entry] = readKeyringDirectory(dir);
    const keys = SigningKeyring.open({ dir, retention, log });
    const format = new JwtAccessTokenFormat('https://issuer.example', keys);
    const token = await format.mint({ ...claims, certificateThumbprint: 'thumb' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: entry!.kid });
    const { payload } = await jwtVerify(token, publicKeyOf(entry!), { issuer: 'https://issuer.example', audience: 'pg:orders-db', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: claims.spiffeId, client_id: claims.spiffeId, scope: 'read write', jti: claims.tokenId, grant_id: claims.grantId, task_id: 'job-1', cnf: { 'x5t#S256': 'thumb' } });
    expect(await format.inspect(token)).toMatchObject({ grantId: claims.grantId, tokenId: claims.tokenId, expired: false });
    expect(JSON.stringify(payload)).not.toContain('undefined');
    const unbound = await format.mint(claims);
    expect((await jwtVerify(unbound, publicKeyOf(entry!))).payload['cnf']).toBeUndefined();
  });

  it('mints a delegated token as RFC 8693 describes: sub the principal, act the actors (current outermost), client_id the holder', async () => {
    const dir = keyringDir();
    const [entry] = readKeyringDirectory(dir);
    const keys = SigningKeyring.open({ dir, retention, log });
    const format = new JwtAccessTokenFormat('https://issuer.example', keys);
    const [agent, subAgent, tool] = ['spiffe://example.org/agent', 'spiffe://example.org/sub-agent', 'spiffe://example.org/tool'];
    const parents = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const token = await format.mint({ ...claims, spiffeId: tool, delegation: { delegators: [agent, subAgent], parentGrantIds: parents } });
    const { payload } = await jwtVerify(token, publicKeyOf(entry!), { issuer: 'https://issuer.example' });
    expect(payload).toMatchObject({ sub: agent, client_id: tool, act: { sub: tool, act: { sub: subAgent } }, parent_grant_ids: parents });
    expect((payload['act'] as { act: Record<string, unknown> }).act['act']).toBeUndefined();
    // Who holds it (and may renew it) is the actor, not the principal.
    expect((await format.inspect(token)).spiffeId).toBe(tool);
    const once = await format.mint({ ...claims, spiffeId: subAgent, delegation: { delegators: [agent], parentGrantIds: parents.slice(0, 1) } });
    expect((await jwtVerify(once, publicKeyOf(entry!))).payload).toMatchObject({ sub: agent, client_id: subAgent, act: { sub: subAgent } });
  });

  it('signs with the promoted key after a reload and still reads tokens of the retired one until it is removed', async () => {
    const dir = keyringDir();
    const keys = SigningKeyring.open({ dir, retention, log });
    const format = new JwtAccessTokenFormat('https://issuer.example', keys);
    const before = await format.mint(claims);
    const oldKid = decodeProtectedHeader(before).kid!;

    applyKeyringChange(dir, planGenerate(readKeyringDirectory(dir), generateEd25519Entry(new Date())));
    keys.reload();
    expect(decodeProtectedHeader(await format.mint(claims)).kid).toBe(oldKid); // next: published, not signing
    expect(keys.published()).toHaveLength(2);

    applyKeyringChange(dir, planPromote(readKeyringDirectory(dir), new Date(), 0));
    keys.reload();
    const after = await format.mint(claims);
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid);
    expect(await format.inspect(before)).toMatchObject({ grantId: claims.grantId });
    expect(await format.inspect(after)).toMatchObject({ grantId: claims.grantId });

    applyKeyringChange(dir, planRemove(readKeyringDirectory(dir), oldKid));
    keys.reload();
    await expect(format.inspect(before)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
  });
});
