import { describe, expect, it } from 'vitest';
import { AUDIT_LIMITS, boundDetail, boundText } from './bounded-detail.js';

describe('audit detail bounds', () => {
  it('cuts long text and replaces what PostgreSQL cannot store', () => {
    expect(boundText('a\u0000b', 10)).toBe('a\ufffdb');
    expect(boundText('x'.repeat(5000), 100)).toHaveLength(100);
  });

  it('bounds strings, arrays and depth inside the detail', () => {
    const detail = boundDetail({ issuer: 'i'.repeat(10_000), scopes: Array.from({ length: 100 }, (_, i) => `s${i}`), deep: { a: { b: { c: { d: { e: 1 } } } } } });
    expect((detail['issuer'] as string).length).toBe(AUDIT_LIMITS.stringMaxLength);
    expect((detail['scopes'] as unknown[]).length).toBe(AUDIT_LIMITS.arrayMaxItems + 1);
    expect(JSON.stringify(detail['deep'])).toContain('nested too deep');
  });

  it('replaces a detail that is still too large by its digest', () => {
    const detail = boundDetail(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])));
    expect(detail['truncated']).toMatch(/over the 16384-byte limit/);
    expect(detail['detailDigest']).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.byteLength(JSON.stringify(detail))).toBeLessThan(AUDIT_LIMITS.detailMaxBytes);
  });
});
