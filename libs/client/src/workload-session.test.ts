import { describe, expect, it } from 'vitest';
import { renewalTime } from './workload-session.js';

describe('renewalTime', () => {
  it('is two thirds into the certificate life, give or take 10% of it', () => {
    const issued = new Date(0);
    const expires = new Date(3_000_000);
    expect(renewalTime(issued, expires, () => 0.5).getTime()).toBe(2_000_000);
    expect(renewalTime(issued, expires, () => 0).getTime()).toBe(1_700_000);
    expect(renewalTime(issued, expires, () => 0.999_999).getTime()).toBeCloseTo(2_300_000, -1);
    expect(renewalTime(issued, expires, () => 0.999_999).getTime()).toBeLessThan(expires.getTime());
  });
});
