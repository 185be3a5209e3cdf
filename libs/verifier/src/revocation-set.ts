/** What a verifier must remember about one revoked grant. */
export interface RevokedEntry {
  readonly grantId: string;
  readonly tokenId: string;
  /** Epoch ms after which the token is expired anyway and the entry can be forgotten. */
  readonly notAfterMs: number;
}

/**
 * The revocations an edge has heard, keyed by grant and by token id. Entries live only as long
 * as the token they revoke could be presented, so the set stays as small as the number of
 * revoked-but-unexpired tokens, whatever the history.
 */
export class RevocationSet {
  private readonly byGrant = new Map<string, RevokedEntry>();
  private readonly byToken = new Map<string, RevokedEntry>();

  add(entry: RevokedEntry, nowMs = Date.now()): void {
    if (entry.notAfterMs <= nowMs) return;
    this.byGrant.set(entry.grantId, entry);
    if (entry.tokenId) this.byToken.set(entry.tokenId, entry);
  }

  isRevoked(grantId: string | undefined, tokenId: string | undefined): boolean {
    return (grantId !== undefined && this.byGrant.has(grantId)) || (tokenId !== undefined && this.byToken.has(tokenId));
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
