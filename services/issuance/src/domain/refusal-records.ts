import { GrantRateLimiter } from './rate-limiter.js';

/** What to write to the audit trail for one refusal of an unauthenticated caller. */
export type RefusalRecord =
  | { readonly kind: 'each' }
  /** One record standing for this refusal and the ones not written since the last record. */
  | { readonly kind: 'aggregate'; readonly refusedSinceLastRecord: number }
  | { readonly kind: 'none' };

/**
 * How many records the refusals of unauthenticated callers (garbage or forged ID tokens) may
 * write, per network peer: the first few each get one, then at most one every few seconds with
 * the count of those not written. Anyone can send garbage, and without this each call bought an
 * audit record: 30 calls, 30 records; a flood, an audit trail of noise.
 */
export class UnauthenticatedRefusals {
  private readonly limiter: GrantRateLimiter;

  constructor(limit = { perSecond: 0.2, burst: 5 }, now: () => number = Date.now) {
    this.limiter = new GrantRateLimiter(limit, now);
  }

  record(peer: string): RefusalRecord {
    const decision = this.limiter.take(peer);
    if (decision.allowed) return { kind: 'each' };
    return decision.refusalsToAudit === undefined ? { kind: 'none' } : { kind: 'aggregate', refusedSinceLastRecord: decision.refusalsToAudit };
  }
}
