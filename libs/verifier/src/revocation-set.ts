/** What a verifier must remember about one revoked grant. */
export interface RevokedEntry {
  readonly grantId: string;
  readonly tokenId: string;
  /** Epoch ms after which the token is expired anyway and the entry can be forgotten. */
  readonly notAfterMs: number;
}

/** Default cap on entries: about 200 MB of strings and maps at the very worst. */
export const DEFAULT_MAX_REVOCATION_ENTRIES = 1_000_000;

/**
 * The revocations an edge has heard, keyed by grant and by token id. Entries live only as long
 * as the token they revoke could be presented, so the set stays as small as the number of
 * revoked-but-unexpired tokens, whatever the history.
 *
 * The set is capped. An entry that does not fit is not silently forgotten: the set reports
 * itself overflowed until that entry's token would have expired, and the verifier refuses every
 * token meanwhile (fail closed).
 */
export class RevocationSet {
  private readonly byGrant = new Map<string, RevokedEntry>();
  private readonly byToken = new Map<string, RevokedEntry>();
  /** Until when (epoch ms) an entry that did not fit could still matter. */
  private overflowUntilMs = 0;

  constructor(private readonly maxEntries = DEFAULT_MAX_REVOCATION_ENTRIES) {}

  /** Records a revocation. Returns false if the set was full and the entry could not be kept. */
  add(entry: RevokedEntry, nowMs = Date.now()): boolean {
    if (entry.notAfterMs <= nowMs) return true;
    if (!this.byGrant.has(entry.grantId) && this.byGrant.size >= this.maxEntries) {
      this.prune(nowMs);
      if (this.byGrant.size >= this.maxEntries) {
        this.overflowUntilMs = Math.max(this.overflowUntilMs, entry.notAfterMs);
        return false;
      }
    }
    this.byGrant.set(entry.grantId, entry);
    if (entry.tokenId) this.byToken.set(entry.tokenId, entry);
    return true;
  }

  isRevoked(grantId: string | undefined, tokenId: string | undefined): boolean {
    return (grantId !== undefined && this.byGrant.has(grantId)) || (tokenId !== undefined && this.byToken.has(tokenId));
  }

  /** True while a revocation that did not fit could still apply to a live token. */
  isOverflowed(nowMs = Date.now()): boolean {
    return this.overflowUntilMs > nowMs;
  }

  /** Forgets entries whose tokens have expired. Returns how many were dropped. */
  prune(nowMs = Date.now()): number {
    let dropped = 0;
    for (const [grantId, entry] of this.byGrant) {
      if (entry.notAfterMs <= nowMs) {
        this.byGrant.delete(grantId);
        this.byToken.delete(entry.tokenId);
        dropped += 1;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.byGrant.size;
  }
}
