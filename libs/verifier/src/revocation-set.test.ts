import { describe, expect, it } from 'vitest';
import { RevocationSet, type TokenIdentity } from './revocation-set.js';

const grant = (grantId: string, tokenId: string, notAfterMs: number) => ({ scope: 'grant' as const, grantId, tokenId, notAfterMs });
const WORKLOAD = 'spiffe://example.org/ci/builder';
const token = (fields: Partial<TokenIdentity> = {}): TokenIdentity => ({ grantId: 'g9', tokenId: 't9', spiffeId: WORKLOAD, issuedAt: new Date(1_000), keyId: 'k1', ...fields });

describe('RevocationSet', () => {
  it('revokes by grant and by token id', () => {
    const set = new RevocationSet();
    set.add(grant('g1', 't1', 2_000), 1_000);
    expect(set.isRevoked('g1', undefined)).toBe(true);
    expect(set.isRevoked(undefined, 't1')).toBe(true);
    expect(set.isRevoked('g2', 't2')).toBe(false);
    expect(set.revocationOf(token({ grantId: 'g1' }))?.message).toMatch(/grant g1 has been revoked/);
    expect(set.revocationOf(token({ tokenId: 't1' }))).toBeDefined();
    expect(set.revocationOf(token())).toBeUndefined();
  });

  it('keeps an entry only while the revoked token could still be presented', () => {
    const set = new RevocationSet();
    set.add(grant('g1', 't1', 2_000), 1_000);
    set.add(grant('g2', 't2', 5_000), 1_000);
    set.add(grant('g3', 't3', 500), 1_000); // already expired: not kept
    expect(set.size).toBe(2);
    expect(set.prune(3_000)).toBe(1);
    expect(set.isRevoked('g1', 't1')).toBe(false);
    expect(set.isRevoked('g2', undefined)).toBe(true);
    expect(set.size).toBe(1);
  });
});

describe('RevocationSet consumed single-use tokens', () => {
  it('answers ERR_TOKEN_CONSUMED for a grant ended by consumption, ERR_TOKEN_REVOKED otherwise', () => {
    const set = new RevocationSet();
    set.add({ ...grant('g1', 't1', 5_000), consumed: true }, 1_000);
    set.add(grant('g2', 't2', 5_000), 1_000);
    expect(set.revocationOf(token({ grantId: 'g1' }))?.code).toBe('ERR_TOKEN_CONSUMED');
    expect(set.revocationOf(token({ grantId: 'g2' }))?.code).toBe('ERR_TOKEN_REVOKED');
  });
});

describe('RevocationSet watermarks', () => {
  it("revokes a workload's tokens issued before its watermark, and not later ones nor other workloads'", () => {
    const set = new RevocationSet();
    set.add({ scope: 'workload', spiffeId: WORKLOAD, notBeforeMs: 10_000, notAfterMs: 100_000 }, 1_000);
    expect(set.revocationOf(token({ issuedAt: new Date(9_000) }))?.message).toMatch(/issued before/);
    expect(set.revocationOf(token({ issuedAt: new Date(10_000) }))).toBeUndefined();
    expect(set.revocationOf(token({ issuedAt: new Date(9_000), spiffeId: 'spiffe://example.org/other' }))).toBeUndefined();
    expect(set.counts()).toEqual({ grants: 0, workloadWatermarks: 1, keyWatermarks: 0 });
  });

  it("merges a workload's watermarks into the latest time and the longest life", () => {
    const set = new RevocationSet();
    set.add({ scope: 'workload', spiffeId: WORKLOAD, notBeforeMs: 20_000, notAfterMs: 50_000 }, 1_000);
    set.add({ scope: 'workload', spiffeId: WORKLOAD, notBeforeMs: 10_000, notAfterMs: 90_000 }, 1_000); // an older one replayed
    expect(set.size).toBe(1);
    expect(set.revocationOf(token({ issuedAt: new Date(15_000) }))).toBeDefined();
    set.prune(60_000);
    expect(set.revocationOf(token({ issuedAt: new Date(15_000) }))).toBeDefined(); // lives until the longest
    set.prune(90_000);
    expect(set.size).toBe(0);
  });

  it('revokes every token a key signed, whenever issued', () => {
    const set = new RevocationSet();
    set.add({ scope: 'key', keyId: 'k1', notAfterMs: 100_000 }, 1_000);
    expect(set.revocationOf(token({ issuedAt: new Date(50_000) }))?.message).toMatch(/signing key k1/);
    expect(set.revocationOf(token({ keyId: 'k2' }))).toBeUndefined();
    expect(set.revocationOf(token({ keyId: undefined }))).toBeUndefined();
  });
});

describe('RevocationSet capacity', () => {
  it('refuses an entry beyond its cap and reports itself overflowed until that token would have expired', () => {
    const set = new RevocationSet(2);
    expect(set.add(grant('g1', 't1', 10_000), 1_000)).toBe(true);
    expect(set.add(grant('g2', 't2', 3_000), 1_000)).toBe(true);
    expect(set.add(grant('g3', 't3', 5_000), 1_000)).toBe(false);
    expect(set.isOverflowed(1_000)).toBe(true);
    expect(set.isOverflowed(5_000)).toBe(false); // g3's token has expired by then
    // Room is made by pruning expired entries before refusing.
    expect(set.add(grant('g4', 't4', 9_000), 4_000)).toBe(true);
    expect(set.isRevoked('g4', undefined)).toBe(true);
    expect(set.size).toBe(2);
  });

  it('counts watermarks against the cap, but a watermark it already holds always merges', () => {
    const set = new RevocationSet(1);
    expect(set.add({ scope: 'key', keyId: 'k1', notAfterMs: 10_000 }, 1_000)).toBe(true);
    expect(set.add({ scope: 'key', keyId: 'k1', notAfterMs: 20_000 }, 1_000)).toBe(true);
    expect(set.add({ scope: 'workload', spiffeId: WORKLOAD, notBeforeMs: 1, notAfterMs: 10_000 }, 1_000)).toBe(false);
    expect(set.isOverflowed(1_000)).toBe(true);
  });

  it('refuses everything until a time when told of a revocation it cannot represent', () => {
    const set = new RevocationSet();
    set.refuseEverythingUntil(5_000);
    expect(set.isOverflowed(4_999)).toBe(true);
    expect(set.isOverflowed(5_000)).toBe(false);
  });
});

describe('RevocationSet and delegated tokens', () => {
  const AGENT = 'spiffe://example.org/agent';
  const TOOL = 'spiffe://example.org/tool';
  const delegated = (fields: Partial<TokenIdentity> = {}) =>
    token({ grantId: 'g-child', tokenId: 't-child', spiffeId: AGENT, delegation: { actor: TOOL, delegators: [AGENT], parentGrantIds: ['g-root'] }, ...fields });

  it('refuses a delegated token once any grant it was carved from is revoked', () => {
    const set = new RevocationSet();
    expect(set.revocationOf(delegated())).toBeUndefined();
    set.add(grant('g-root', 't-root', 5_000), 1_000);
    expect(set.revocationOf(delegated())).toMatchObject({ code: 'ERR_TOKEN_REVOKED', message: expect.stringMatching(/g-root, which grant g-child was delegated from/) });
    // An unrelated token of the principal is not touched.
    expect(set.revocationOf(token({ spiffeId: AGENT }))).toBeUndefined();
  });

  it('applies a workload watermark to every party of the chain: the principal, who passed it on, and the actor', () => {
    for (const revoked of [AGENT, TOOL]) {
      const set = new RevocationSet();
      set.add({ scope: 'workload', spiffeId: revoked, notBeforeMs: 2_000, notAfterMs: 9_000 }, 1_000);
      expect(set.revocationOf(delegated())?.message).toContain(revoked);
      expect(set.revocationOf(delegated({ issuedAt: new Date(3_000) }))).toBeUndefined();
    }
  });
});
