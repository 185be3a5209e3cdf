import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { withRetries } from './retries.js';

const policy = { retries: 3, initialDelayMs: 1 };

describe('withRetries', () => {
  it('tries again while the service did not answer, then succeeds', async () => {
    let calls = 0;
    const result = await withRetries(async () => {
      calls += 1;
      if (calls === 1) throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'down');
      if (calls === 2) throw new MayflyError('ERR_DEADLINE_EXCEEDED', 'slow');
      return 'granted';
    }, policy);
    expect(result).toBe('granted');
    expect(calls).toBe(3);
  });

  it('gives up after the policy retries, with the last error', async () => {
    let calls = 0;
    await expect(withRetries(async () => Promise.reject(new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `down ${++calls}`)), policy)).rejects.toThrow('down 4');
  });

  it('never retries an answer: a refusal is final', async () => {
    let calls = 0;
    await expect(withRetries(async () => Promise.reject(new MayflyError('ERR_POLICY_DENIED', `no ${++calls}`)), policy)).rejects.toThrow('no 1');
  });
});
