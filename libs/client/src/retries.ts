import { isMayflyError } from '@mayfly/core';

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly retries: number;
  /** Wait before the first retry, ms; doubled each time, ±25% jitter. */
  readonly initialDelayMs: number;
}

export const DEFAULT_RETRIES: RetryPolicy = { retries: 3, initialDelayMs: 200 };

/** Failures where the call may not have been answered: worth trying again. */
export function isRetryable(error: unknown): boolean {
  return isMayflyError(error, 'ERR_DEPENDENCY_UNAVAILABLE') || isMayflyError(error, 'ERR_DEADLINE_EXCEEDED');
}

/** Runs `call`, again after a backoff while it fails with a retryable error, up to the policy's retries. */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy, random: () => number = Math.random): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.retries || !isRetryable(error)) throw error;
      const delay = policy.initialDelayMs * 2 ** attempt * (0.75 + random() * 0.5);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
