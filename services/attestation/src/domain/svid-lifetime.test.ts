import { describe, expect, it } from 'vitest';
import { svidExpiry } from './svid-lifetime.js';

const now = new Date('2026-11-22T10:00:00Z');
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe('svidExpiry', () => {
  it('is the earlier of the evidence expiry and the maximum', () => {
    expect(svidExpiry(at(600), 3600, now)).toEqual(at(600));
    expect(svidExpiry(at(86_400), 3600, now)).toEqual(at(3600));
  });

  it('refuses evidence about to expire', () => {
    expect(() => svidExpiry(at(5), 3600, now)).toThrow(/expires within 10 seconds/);
  });
});
