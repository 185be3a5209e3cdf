import { MayflyError } from '@mayfly/core';
import { describe, expect, it } from 'vitest';
import { pacedByRateLimit } from './rate-paced.js';

const limited = (retryAfterMs: number) => new MayflyError('ERR_RATE_LIMITED', `retry in ${retryAfterMs} ms`, { retryAfterMs });

describe('pacedByRateLimit (the demo sharing a workload budget with another round)', () => {
  it('waits the time each refusal names, then answers with the attempt that succeeded', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await pacedByRateLimit(
      async () => {
        calls++;
        if (calls <= 2) throw limited(calls * 15);
        return 'granted';
      },
      50,
      async (ms) => void slept.push(ms),
    );
    expect(result.value).toBe('granted');
    expect(result.waits).toBe(2);
    expect(slept).toEqual([15, 30]);
    expect(calls).toBe(3);
  });

  it('passes any other error on at once, and gives up on the rate limit after maxWaits', async () => {
    const denied = new MayflyError('ERR_POLICY_DENIED', 'denied');
    await expect(pacedByRateLimit(async () => Promise.reject(denied), 50, async () => undefined)).rejects.toBe(denied);
    let calls = 0;
    const refusal = limited(5);
    await expect(pacedByRateLimit(async () => ((calls++, Promise.reject(refusal))), 3, async () => undefined)).rejects.toBe(refusal);
    expect(calls).toBe(4);
  });
});
