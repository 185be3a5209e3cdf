import { describe, expect, it } from 'vitest';
import { GrantRateLimiter } from './rate-limiter.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('GrantRateLimiter', () => {
  it('allows a burst, then the sustained rate, per workload', () => {
    const time = clock();
    const limiter = new GrantRateLimiter({ perSecond: 10, burst: 3 }, time.now);
    expect([1, 2, 3].map(() => limiter.take('agent').allowed)).toEqual([true, true, true]);
    expect(limiter.take('agent')).toMatchObject({ allowed: false, retryAfterMs: 100 });
    expect(limiter.take('other').allowed).toBe(true); // buckets are per workload
    time.advance(100);
    expect(limiter.take('agent').allowed).toBe(true);
    expect(limiter.take('agent').allowed).toBe(false);
  });

  it('reports refusals for the audit trail at most once a second, with their count', () => {
    const time = clock();
    const limiter = new GrantRateLimiter({ perSecond: 1, burst: 1 }, time.now);
    limiter.take('loop');
    const refusals = Array.from({ length: 5 }, () => limiter.take('loop'));
    expect(refusals.map((r) => (r.allowed ? 'ok' : r.refusalsToAudit))).toEqual([1, undefined, undefined, undefined, undefined]);
    time.advance(1000);
    limiter.take('loop'); // the token that came back
    time.advance(10);
    const next = limiter.take('loop');
    expect(next).toMatchObject({ allowed: false, refusalsToAudit: 5 });
  });

  it('is off when the rate is 0', () => {
    const limiter = new GrantRateLimiter({ perSecond: 0, burst: 0 });
    expect(Array.from({ length: 1000 }, () => limiter.take('x').allowed).every(Boolean)).toBe(true);
  });
});
