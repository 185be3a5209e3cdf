import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';
import { isUuid } from './validation.js';

describe('newId', () => {
  it('makes version 7 UUIDs in lower-case hex that carry the time they were made', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]!);
    const madeAt = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(madeAt).toBeGreaterThanOrEqual(before);
    expect(madeAt).toBeLessThanOrEqual(after);
  });

  it('never repeats, across many refills of its random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    // 74 random bits: the bytes after the time differ even between ids of the same millisecond.
    expect(new Set(ids.map((id) => id.slice(15))).size).toBe(ids.length);
  });

  it('ids made later sort after ids made earlier (by their millisecond)', async () => {
    const first = newId();
    await new Promise((resolve) => setTimeout(resolve, 3));
    const second = newId();
    expect(second > first).toBe(true);
  });
});

describe('newId, as text', () => {
  it('writes the same 16 bytes the id carries, in the canonical 8-4-4-4-12 form', () => {
    for (let i = 0; i < 2_000; i++) {
      const id = newId();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
      expect(bytes).toHaveLength(16);
      expect(bytes.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')).toBe(id);
    }
  });
});
