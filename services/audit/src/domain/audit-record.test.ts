import { describe, expect, it } from 'vitest';
import { recordSource } from './audit-record.js';

describe('recordSource', () => {
  it("names the calling component from its verified certificate, whatever the events claim", () => {
    expect(recordSource('spiffe://mayfly.local/mayfly/issuance', 'issuance')).toBe('issuance');
    expect(recordSource('spiffe://mayfly.local/mayfly/edge-verifier', 'revocation')).toBe('edge-verifier');
  });

  it('keeps a claim only without a verified caller, marked unverified', () => {
    expect(recordSource(undefined, 'issuance')).toBe('issuance (unverified)');
    expect(recordSource(undefined, '')).toBe('unknown (unverified)');
  });

  it('names a caller outside the mesh layout by its SPIFFE ID, cut to the column limit', () => {
    expect(recordSource('spiffe://example.org/other', 'x')).toBe('spiffe://example.org/other');
    expect(recordSource(`spiffe://example.org/${'a'.repeat(100)}`, 'x')).toHaveLength(64);
  });
});
