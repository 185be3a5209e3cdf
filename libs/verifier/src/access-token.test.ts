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
  grant_id: '11111111-1111-4111-8111-111111111111',
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

  it('reads a delegation chain (RFC 8693 act): the principal in sub, the current actor outermost', () => {
    const delegated = claims({
      sub: 'spiffe://example.org/agent',
      client_id: 'spiffe://example.org/tool',
      act: { sub: 'spiffe://example.org/tool', act: { sub: 'spiffe://example.org/sub-agent' } },
      parent_grant_ids: ['22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'],
    });
    expect(readAccessTokenClaims(delegated)?.delegation).toEqual({
      actor: 'spiffe://example.org/tool',
      delegators: ['spiffe://example.org/agent', 'spiffe://example.org/sub-agent'],
      depth: 2,
      parentGrantIds: ['22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'],
    });
    expect(readAccessTokenClaims(claims())?.delegation).toBeUndefined();
  });

  it('refuses a chain it cannot read or that does not add up, rather than read the token as undelegated', () => {
    const one = { sub: 'spiffe://example.org/agent', client_id: 'spiffe://example.org/tool', act: { sub: 'spiffe://example.org/tool' }, parent_grant_ids: ['22222222-2222-4222-8222-222222222222'] };
    expect(readAccessTokenClaims(claims(one))).toBeDefined();
    expect(readAccessTokenClaims(claims({ ...one, parent_grant_ids: undefined }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ ...one, act: undefined }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ ...one, parent_grant_ids: ['22222222-2222-4222-8222-222222222222', '44444444-4444-4444-8444-444444444444'] }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ ...one, act: { sub: 'not a spiffe id' } }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ ...one, act: 'spiffe://example.org/tool' }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ ...one, client_id: 'spiffe://example.org/someone-else' }))).toBeUndefined();
    let deep: Record<string, unknown> = { sub: 'spiffe://example.org/tool' };
    for (let i = 0; i < 20; i++) deep = { sub: `spiffe://example.org/a${i}`, act: deep };
    expect(readAccessTokenClaims(claims({ ...one, client_id: 'spiffe://example.org/a19', act: deep, parent_grant_ids: Array.from({ length: 21 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }))).toBeUndefined();
  });

  // Red team (issue 20, point 10): a validly signed token whose grant_id was not a UUID was
  // accepted, and its usage report stopped every later one.
  it('refuses a grant_id or parent grant id that is not a UUID, even when validly signed', () => {
    expect(readAccessTokenClaims(claims({ grant_id: 'not-a-uuid' }))).toBeUndefined();
    expect(readAccessTokenClaims(claims({ grant_id: '11111111-1111-4111-8111-11111111111G' }))).toBeUndefined();
    const one = { sub: 'spiffe://example.org/agent', client_id: 'spiffe://example.org/tool', act: { sub: 'spiffe://example.org/tool' } };
    expect(readAccessTokenClaims(claims({ ...one, parent_grant_ids: ['root'] }))).toBeUndefined();
  });
});
