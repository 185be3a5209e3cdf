import { describe, expect, it } from 'vitest';
import { RevocationSet } from './revocation-set.js';

describe('RevocationSet', () => {
  it('revokes by grant and by token id', () => {
    const set = new RevocationSet();
    set.add({ grantId: 'g1', tokenId: 't1', notAfterMs: 2_000 }, 1_000);
    expect(set.isRevoked('g1', undefined)).toBe(true);
    expect(set.isRevoked(undefined, 't1')).toBe(true);
    expect(set.isRevoked('g2', 't2')).toBe(false);
  });

  it('keeps an entry only while the revoked token could still be presented', () => {
    const set = new RevocationSet();
    set.add({ grantId: 'g1', tokenId: 't1', notAfterMs: 2_000 }, 1_000);
    set.add({ grantId: 'g2', tokenId: 't2', notAfterMs: 5_000 }, 1_000);
    set.add({ grantId: 'g3', tokenId: 't3', notAfterMs: 500 }, 1_000); // already expired: not kept
    expect(set.size).toBe(2);
    expect(set.prune(3_000)).toBe(1);
    expect(set.isRevoked('g1', 't1')).toBe(false);
    expect(set.isRevoked('g2', undefined)).toBe(true);
    expect(set.size).toBe(1);
  });
});

describe('RevocationSet capacity', () => {
  it('refuses an entry beyond its cap and reports itself overflowed until that token would have expired', () => {
    const set = new RevocationSet(2);
    expect(set.add({ grantId: 'g1', tokenId: 't1', notAfterMs: 10_000 }, 1_000)).toBe(true);
    expect(set.add({ grantId: 'g2', tokenId: 't2', notAfterMs: 3_000 }, 1_000)).toBe(true);
    expect(set.add({ grantId: 'g3', tokenId: 't3', notAfterMs: 5_000 }, 1_000)).toBe(false);
    expect(set.isOverflowed(1_000)).toBe(true);
    expect(set.isOverflowed(5_000)).toBe(false); // g3's token has expired by then
    // Room is made by pruning expired entries before refusing.
    expect(set.add({ grantId: 'g4', tokenId: 't4', notAfterMs: 9_000 }, 4_000)).toBe(true);
    expect(set.isRevoked('g4', undefined)).toBe(true);
    expect(set.size).toBe(2);
  });
});
