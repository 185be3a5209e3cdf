import { describe, expect, it } from 'vitest';
import { IssuerKind, ReplayPolicy, TrustedIssuer } from '@mayfly/proto';
import { readBinding, readIssuerRecord } from './issuer-record.js';

const PUBLIC_KEY = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
const valid = TrustedIssuer.fromPartial({ issuer: 'https://token.actions.githubusercontent.com', kind: IssuerKind.ISSUER_KIND_OIDC, audiences: ['mayfly'], jwksUri: 'https://token.actions.githubusercontent.com/.well-known/jwks' });
const refusal = (fields: Partial<TrustedIssuer>) => {
  try {
    readIssuerRecord({ ...valid, ...fields });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('readIssuerRecord', () => {
  it('reads an issuer with defaults: ES256 and RS256, 24 h evidence at most, the kind\'s replay policy', () => {
    expect(readIssuerRecord(valid)).toMatchObject({ issuer: valid.issuer, kind: 'oidc', algorithms: ['ES256', 'RS256'], maxEvidenceLifetimeSeconds: 86_400, replayPolicy: undefined });
    expect(readIssuerRecord({ ...valid, kind: IssuerKind.ISSUER_KIND_KUBERNETES, replayPolicy: ReplayPolicy.REPLAY_POLICY_SINGLE_USE })).toMatchObject({ kind: 'kubernetes', replayPolicy: 'single-use' });
    expect(readIssuerRecord({ ...valid, audiences: ['mayfly', 'mayfly-eu'] }).audiences).toEqual(['mayfly', 'mayfly-eu']);
    expect(readIssuerRecord({ ...valid, jwksUri: '', jwksJson: JSON.stringify({ keys: [PUBLIC_KEY] }) }).jwks).toEqual({ keys: [PUBLIC_KEY] });
  });

  it('refuses what would weaken attestation', () => {
    expect(refusal({ issuer: 'http://issuer.example' })).toMatch(/must be https/);
    expect(refusal({ jwksUri: 'http://issuer.example/jwks' })).toMatch(/must be https/);
    expect(refusal({ jwksJson: '{"keys":[]}' })).toMatch(/exactly one of jwks_uri/);
    expect(refusal({ jwksUri: '', jwksJson: JSON.stringify({ keys: [{ ...PUBLIC_KEY, d: 'secret' }] }) })).toMatch(/private or symmetric key/);
    expect(refusal({ jwksUri: '', jwksJson: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }) })).toMatch(/private or symmetric key/);
    expect(refusal({ algorithms: ['HS256'] })).toMatch(/HS256 not accepted/);
    expect(refusal({ algorithms: ['none'] })).toMatch(/none not accepted/);
    expect(refusal({ audiences: [] })).toMatch(/audiences: at least one is required/);
    expect(refusal({ audiences: [''] })).toMatch(/audiences: each must be non-empty/);
    expect(refusal({ audiences: [' mayfly'] })).toMatch(/without surrounding spaces/);
    expect(refusal({ audiences: ['a', 'a'] })).toMatch(/lists an audience twice/);
    expect(refusal({ audiences: Array.from({ length: 9 }, (_, i) => `a${i}`) })).toMatch(/at most 8/);
    expect(refusal({ kind: IssuerKind.ISSUER_KIND_UNSPECIFIED })).toMatch(/kind/);
    expect(refusal({ maxEvidenceLifetimeSeconds: 90_000 })).toMatch(/at most 86400/);
  });
});

describe('readBinding', () => {
  const binding = { issuer: 'https://issuer.example', subject: 'repo:acme/app:ref:refs/heads/main', spiffeId: 'spiffe://example.org/ci/app' };
  it('binds one subject exactly', () => {
    expect(readBinding(binding)).toEqual(binding);
  });
  it('refuses bindings that would match everything, or nothing in particular', () => {
    for (const subject of ['*', 'repo:acme/*', 'repo:acme/app%', '', ' padded ']) expect(() => readBinding({ ...binding, subject })).toThrow(/subject/);
    expect(() => readBinding({ ...binding, spiffeId: 'spiffe://example.org' })).toThrow(/spiffe_id/);
  });
});
