import { describe, expect, it } from 'vitest';
import { parseTime } from './audit.js';

describe('audit --since/--until', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('takes an ISO time or an age', () => {
    expect(parseTime('2026-11-22T10:00:00Z', '--since', now)?.toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(parseTime('30m', '--since', now)?.toISOString()).toBe('2026-11-22T11:30:00.000Z');
    expect(parseTime('7d', '--since', now)?.toISOString()).toBe('2026-11-15T12:00:00.000Z');
    expect(parseTime(undefined, '--since', now)).toBeUndefined();
  });
  it('says what it expects when it cannot read the time', () => {
    expect(() => parseTime('yesterday', '--until', now)).toThrow(/--until must be an ISO-8601 time or an age like 30m/);
  });
});
