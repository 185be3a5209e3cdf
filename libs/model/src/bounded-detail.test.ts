import { createHash } from 'node:crypto';
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

describe('audit detail bounds, unchanged by the faster walk', () => {
  /** The walk as it was before it kept a size bound (Object.entries, fromEntries, always serialised). */
  function reference(detail: Record<string, unknown>): Record<string, unknown> {
    const value = (v: unknown, depth: number): unknown => {
      if (typeof v === 'string') return boundText(v, AUDIT_LIMITS.stringMaxLength);
      if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
      if (typeof v === 'boolean' || v === null || v === undefined) return v ?? null;
      if (depth >= AUDIT_LIMITS.maxDepth) return '[nested too deep]';
      if (Array.isArray(v)) {
        const items = v.slice(0, AUDIT_LIMITS.arrayMaxItems).map((item) => value(item, depth + 1));
        if (v.length > AUDIT_LIMITS.arrayMaxItems) items.push(`… ${v.length - AUDIT_LIMITS.arrayMaxItems} more`);
        return items;
      }
      if (typeof v === 'object') {
        const entries = Object.entries(v as Record<string, unknown>).slice(0, AUDIT_LIMITS.arrayMaxItems);
        return Object.fromEntries(entries.map(([key, item]) => [boundText(key, 128), value(item, depth + 1)]));
      }
      return boundText(String(v), AUDIT_LIMITS.stringMaxLength);
    };
    const bounded = value(detail, 0) as Record<string, unknown>;
    const json = JSON.stringify(bounded);
    if (Buffer.byteLength(json) <= AUDIT_LIMITS.detailMaxBytes) return bounded;
    return {
      truncated: `detail was ${Buffer.byteLength(json)} bytes, over the ${AUDIT_LIMITS.detailMaxBytes}-byte limit`,
      detailDigest: createHash('sha256').update(json).digest('hex'),
      keys: Object.keys(bounded).slice(0, AUDIT_LIMITS.arrayMaxItems),
    };
  }

  it('gives what the old walk gave, for details small, large, deep, odd and right at the limit', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(random() < 0.1 ? Math.floor(random() * 0x2000) : 32 + Math.floor(random() * 90))).join('');
    const anyValue = (depth: number): unknown => {
      const pick = Math.floor(random() * 9);
      if (pick === 0) return text(Math.floor(random() * 1500));
      if (pick === 1) return random() < 0.2 ? Number.NaN : random() * 1e6;
      if (pick === 2) return random() < 0.5;
      if (pick === 3) return random() < 0.5 ? null : undefined;
      if (pick === 4 && depth < 5) return Array.from({ length: Math.floor(random() * (depth < 2 ? 80 : 4)) }, () => anyValue(depth + 1));
      if (pick === 5 && depth < 5) return Object.fromEntries(Array.from({ length: Math.floor(random() * (depth < 2 ? 70 : 4)) }, (_, i) => [`${text(Math.floor(random() * 200))}${i}`, anyValue(depth + 1)]));
      if (pick === 6) return 12345678901234567890n;
      return text(Math.floor(random() * 40));
    };
    let replaced = 0;
    for (let i = 0; i < 120; i++) {
      const detail = Object.fromEntries(Array.from({ length: 1 + Math.floor(random() * 12) }, (_, k) => [`k${k}`, anyValue(0)]));
      const bounded = boundDetail(detail);
      expect(bounded).toEqual(reference(detail));
      if ('detailDigest' in bounded) replaced++;
    }
    // Both ways out were taken: kept (bounded) and replaced by a digest.
    expect(replaced).toBeGreaterThan(10);
    expect(replaced).toBeLessThan(110);
    // Right at the limit, in both directions: the exact size decides, not the bound.
    for (const length of [16_000, 16_370, 16_371, 16_372, 16_400]) {
      const detail = Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`k${k}`, 'x'.repeat(Math.floor(length / 16) - 12)]));
      expect(boundDetail(detail)).toEqual(reference(detail));
    }
  });

  it('keeps a key named __proto__ as data, never as the copy\u2019s prototype', () => {
    const detail = JSON.parse('{"__proto__": {"polluted": true}, "claim": "x"}') as Record<string, unknown>;
    const bounded = boundDetail(detail);
    expect(Object.getPrototypeOf(bounded)).toBe(Object.prototype);
    expect((bounded as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(bounded)).toEqual(['__proto__', 'claim']);
    expect(JSON.stringify(bounded)).toBe('{"__proto__":{"polluted":true},"claim":"x"}');
  });
});
