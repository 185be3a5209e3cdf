import { performance } from 'node:perf_hooks';
import { isMayflyError } from '@mayfly/core';

export interface PacedResult<T> {
  readonly value: T;
  /** How long the attempt that succeeded took, the waits apart. */
  readonly attemptMs: number;
  /** How many times the rate limit made it wait. */
  readonly waits: number;
}

/**
 * Runs `call`; when issuance refuses it with ERR_RATE_LIMITED, waits the time the refusal names
 * and runs it again, up to `maxWaits` times. The demo draws on one workload's per-second budget,
 * which any other round running at the same moment shares (compose's demo container loops every
 * 15 s): it slows down, as a well-behaved client does, rather than failing. The time of the
 * successful attempt is returned apart, so a latency figure stays the mesh's own.
 */
export async function pacedByRateLimit<T>(call: () => Promise<T>, maxWaits = 50, sleep = defaultSleep): Promise<PacedResult<T>> {
  for (let waits = 0; ; waits++) {
    const start = performance.now();
    try {
      const value = await call();
      return { value, attemptMs: performance.now() - start, waits };
    } catch (error) {
      if (waits >= maxWaits || !isMayflyError(error, 'ERR_RATE_LIMITED')) throw error;
      await sleep(Math.max(1, error.retryAfterMs ?? 20));
    }
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
