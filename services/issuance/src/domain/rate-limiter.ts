export interface RateLimit {
  /** Sustained grants per second per workload; 0 turns limiting off. */
  readonly perSecond: number;
  /** How many may come at once after a quiet spell. */
  readonly burst: number;
}

export type RateDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly retryAfterMs: number;
      /** Set at most once a second per workload: how many requests were refused since the last time. */
      readonly refusalsToAudit: number | undefined;
    };

interface Bucket {
  tokens: number;
  updatedMs: number;
  refusedSinceAudit: number;
  lastAuditMs: number;
}

const MAX_TRACKED = 100_000;

/**
 * A token bucket per workload. Grants cost one token; tokens come back at `perSecond` up to
 * `burst`. An agent looping on elevation runs dry and is told when to come back; the audit trail
 * hears of it once a second with a count, so the loop shows without flooding the trail.
 */
export class GrantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  take(workload: string): RateDecision {
    if (this.limit.perSecond <= 0) return { allowed: true };
    const now = this.now();
    const bucket = this.buckets.get(workload) ?? this.newBucket(workload, now);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.limit.perSecond);
    bucket.updatedMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    bucket.refusedSinceAudit += 1;
    const retryAfterMs = Math.ceil(((1 - bucket.tokens) / this.limit.perSecond) * 1000);
    let refusalsToAudit: number | undefined;
    if (now - bucket.lastAuditMs >= 1000) {
      refusalsToAudit = bucket.refusedSinceAudit;
      bucket.refusedSinceAudit = 0;
      bucket.lastAuditMs = now;
    }
    return { allowed: false, retryAfterMs, refusalsToAudit };
  }

  private newBucket(workload: string, now: number): Bucket {
    if (this.buckets.size >= MAX_TRACKED) this.forgetFullBuckets(now);
    const bucket = { tokens: this.limit.burst, updatedMs: now, refusedSinceAudit: 0, lastAuditMs: 0 };
    this.buckets.set(workload, bucket);
    return bucket;
  }

  /** A bucket that would be full again carries no state worth keeping. */
  private forgetFullBuckets(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.limit.perSecond >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
