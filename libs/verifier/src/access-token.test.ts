import { describe, expect, it } from 'vitest';
import { readAccessTokenClaims } from './access-token.js';

const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: 'https://issuer',
  sub: 'spiffe://example.org/ci/builder',
  client_id: 'spiffe://example.org/ci/builder',
  aud: 'pg:orders-db',
  jti: 'j1',
  exp: 2_000_000_000,
  iat: 1_999_999_000,
  scope: 'read write',
  grant_id: 'g1',
  task_id: 't1',
  ...overrides,
});

describe('readAccessTokenClaims', () => {
  it('reads a well-formed token, with its certificate binding if any', () => {
    expect(readAccessTokenClaims(claims())).toMatchObject({ spiffeId: 'spiffe://example.org/ci/builder', scopes: ['read', 'write'], certificateThumbprint: undefined });
    expect(readAccessTokenClaims(claims({ cnf: { 'x5t#S256': 'abc' } }))?.certificateThumbprint).toBe('abc');
  });

  it('refuses a sub that is not a well-formed SPIFFE ID, even when validly signed', () => {
    expect(readAccessTokenClaims(claims({ sub: 'spiffe://example.org/ci/\u0000builder' }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ sub: 'not a spiffe id' }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ sub: 'spiffe://example.org' }))).toBeUndefined();
  });

  it('refuses a cnf it cannot check rather than ignore the binding', () => {
    expect(readAccessTokenClaims(claims({ cnf: { jkt: 'x' } }))).toBeUndefined();
  });
});
