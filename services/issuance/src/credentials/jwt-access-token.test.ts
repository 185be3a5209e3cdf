import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import { JwtAccessTokenFormat } from './jwt-access-token.js';
import { loadSigningKey } from './signing-keys.js';

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

describe('JwtAccessTokenFormat', () => {
  it('mints RFC 9068 tokens a standard JWT library verifies, bound to a certificate when asked', async () => {
    const key = await loadSigningKey(undefined, createLogger('test', { level: 'silent' }));
    const format = new JwtAccessTokenFormat('https://issuer.example', key);
    const token = await format.mint({ ...claims, certificateThumbprint: 'thumb' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid });
    const { payload } = await jwtVerify(token, key.publicKey, { issuer: 'https://issuer.example', audience: 'pg:orders-db', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: claims.spiffeId, client_id: claims.spiffeId, scope: 'read write', jti: claims.tokenId, grant_id: claims.grantId, task_id: 'job-1', cnf: { 'x5t#S256': 'thumb' } });
    expect(await format.inspect(token)).toMatchObject({ grantId: claims.grantId, tokenId: claims.tokenId, expired: false });
    expect(JSON.stringify(payload)).not.toContain('undefined');
    const unbound = await format.mint(claims);
    expect((await jwtVerify(unbound, key.publicKey)).payload['cnf']).toBeUndefined();
  });
});
