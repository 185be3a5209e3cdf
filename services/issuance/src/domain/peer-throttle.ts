import { MayflyError } from '@mayfly/core';
import { GrantRateLimiter, type RateLimit } from './rate-limiter.js';

/**
 * The budget of unauthenticated requests (evidence not yet checked) per network peer, shared by
 * every entry point that takes evidence: checking a signature costs work an unauthenticated
 * flood must not be able to demand without bound.
 */
export class PeerThrottle {
  private readonly limiter: GrantRateLimiter;

  constructor(readonly limit: RateLimit) {
    this.limiter = new GrantRateLimiter(limit);
  }

  /**
   * Takes one request from `peer`'s budget, or throws ERR_RATE_LIMITED. `audit` hears of
   * refusals at most once a second per peer, with their count.
   */
  take(peer: string, audit: (detail: Record<string, unknown>) => void): void {
    const rate = this.limiter.take(peer);
    if (rate.allowed) return;
    const { perSecond, burst } = this.limit;
    if (rate.refusalsToAudit !== undefined) audit({ peer, refusedSinceLastRecord: rate.refusalsToAudit, perSecond, burst, limit: 'unauthenticated requests per peer' });
    throw new MayflyError(
      'ERR_RATE_LIMITED',
      `too many unauthenticated requests from ${peer} (limit ${perSecond} per second, burst ${burst}); retry in ${rate.retryAfterMs} ms`,
      { retryAfterMs: rate.retryAfterMs },
    );
  }
}
