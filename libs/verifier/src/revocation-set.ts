/** What a verifier must remember about one revoked grant. */
export interface RevokedEntry {
  readonly grantId: string;
  readonly tokenId: string;
  /** The grant ended because its single-use token was consumed. */
  readonly consumed?: boolean;
  /** Epoch ms after which the token is expired anyway and the entry can be forgotten. */
  readonly notAfterMs: number;
}

/** Every token of a workload issued before a time is revoked. */
export interface WorkloadWatermark {
  readonly spiffeId: string;
  /** Tokens whose iat (whole seconds) is before this epoch ms are revoked. */
  readonly notBeforeMs: number;
  /** When the last token the watermark covers has expired. */
  readonly notAfterMs: number;
}

/** Every token signed by a key is revoked. */
export interface KeyWatermark {
  readonly keyId: string;
  readonly notAfterMs: number;
}

/** A revocation as heard on the stream, by scope. */
export type HeardRevocation =
  | ({ readonly scope: 'grant' } & RevokedEntry)
  | ({ readonly scope: 'workload' } & WorkloadWatermark)
  | ({ readonly scope: 'key' } & KeyWatermark);

/** What the set needs to know of a token to say whether it is revoked. */
export interface TokenIdentity {
  readonly grantId: string;
  readonly tokenId: string;
  readonly spiffeId: string;
  readonly issuedAt: Date;
  /** The kid its signature names. */
  readonly keyId: string | undefined;
  /** For a delegated token: its actor, who passed it on, and the grants it was carved from. */
  readonly delegation?: { readonly actor: string; readonly delegators: readonly string[]; readonly parentGrantIds: readonly string[] } | undefined;
}

/** Default cap on entries: about 200 MB of strings and maps at the very worst. */
export const DEFAULT_MAX_REVOCATION_ENTRIES = 1_000_000;

/**
 * The revocations an edge has heard: grant entries keyed by grant and by token id, and
 * watermarks — per workload a not-before time, per signing key a ban — a few bytes each, however
 * many tokens they cover. Everything lives only as long as a token it revokes could be
 * presented, so the set stays as small as the number of revoked-but-unexpired grants plus
 * watermarks, whatever the history.
 *
 * The set is capped. An entry that does not fit is not silently forgotten: the set reports
 * itself overflowed until that entry's token would have expired, and the verifier refuses every
 * token meanwhile (fail closed).
 */
export class RevocationSet {
  private readonly byGrant = new Map<string, RevokedEntry>();
  private readonly byToken = new Map<string, RevokedEntry>();
  private readonly byWorkload = new Map<string, WorkloadWatermark>();
  private readonly byKey = new Map<string, KeyWatermark>();
  /** Until when (epoch ms) an entry that did not fit could still matter. */
  private overflowUntilMs = 0;

  constructor(private readonly maxEntries = DEFAULT_MAX_REVOCATION_ENTRIES) {}

  /** Records a revocation. Returns false if the set was full and it could not be kept. */
  add(heard: HeardRevocation, nowMs = Date.now()): boolean {
    if (heard.notAfterMs <= nowMs) return true;
    if (!this.holds(heard) && this.size >= this.maxEntries) {
      this.prune(nowMs);
      if (this.size >= this.maxEntries) {
        this.overflowUntilMs = Math.max(this.overflowUntilMs, heard.notAfterMs);
        return false;
      }
    }
    switch (heard.scope) {
      case 'grant': {
        const entry: RevokedEntry = { grantId: heard.grantId, tokenId: heard.tokenId, notAfterMs: heard.notAfterMs, ...(heard.consumed ? { consumed: true } : {}) };
        this.byGrant.set(entry.grantId, entry);
        if (entry.tokenId) this.byToken.set(entry.tokenId, entry);
        break;
      }
      case 'workload': {
        // Two watermarks of one workload merge: the later time covers everything the earlier did.
        const earlier = this.byWorkload.get(heard.spiffeId);
        this.byWorkload.set(heard.spiffeId, {
          spiffeId: heard.spiffeId,
          notBeforeMs: Math.max(heard.notBeforeMs, earlier?.notBeforeMs ?? 0),
          notAfterMs: Math.max(heard.notAfterMs, earlier?.notAfterMs ?? 0),
        });
        break;
      }
      case 'key': {
        const earlier = this.byKey.get(heard.keyId);
        this.byKey.set(heard.keyId, { keyId: heard.keyId, notAfterMs: Math.max(heard.notAfterMs, earlier?.notAfterMs ?? 0) });
        break;
      }
    }
    return true;
  }

  /** Why the token is refused, or undefined if nothing this set holds revokes it. */
  revocationOf(token: TokenIdentity): { code: 'ERR_TOKEN_REVOKED' | 'ERR_TOKEN_CONSUMED'; message: string } | undefined {
    const entry = this.byGrant.get(token.grantId) ?? this.byToken.get(token.tokenId);
    if (entry?.consumed) return { code: 'ERR_TOKEN_CONSUMED', message: `single-use token of grant ${token.grantId} was used already` };
    if (entry) return { code: 'ERR_TOKEN_REVOKED', message: `grant ${token.grantId} has been revoked` };
    if (token.delegation) {
      // A delegated token falls with any grant it was carved from.
      const revokedParent = token.delegation.parentGrantIds.find((grantId) => this.byGrant.has(grantId));
      if (revokedParent) return { code: 'ERR_TOKEN_REVOKED', message: `grant ${revokedParent}, which grant ${token.grantId} was delegated from, has been revoked` };
    }
    // A workload watermark covers the tokens it holds and the ones it passed on (any party of a
    // chain; sub is the first delegator). The common, undelegated case allocates nothing.
    if (this.byWorkload.size > 0) {
      const watermarked = token.delegation
        ? [token.delegation.actor, ...token.delegation.delegators].map((spiffeId) => this.watermarkOf(spiffeId, token.issuedAt)).find(Boolean)
        : this.watermarkOf(token.spiffeId, token.issuedAt);
      if (watermarked) return watermarked;
    }
    if (token.keyId !== undefined && this.byKey.has(token.keyId)) {
      return { code: 'ERR_TOKEN_REVOKED', message: `signing key ${token.keyId} has been revoked; every token it signed is void` };
    }
    return undefined;
  }

  /**
   * The refusal a workload watermark gives a token issued at `issuedAt`. iat has whole seconds: a
   * token from the watermark's own second may be from just before it, so it is refused too (fail
   * closed; the workload asks again).
   */
  private watermarkOf(spiffeId: string, issuedAt: Date): { code: 'ERR_TOKEN_REVOKED'; message: string } | undefined {
    const workload = this.byWorkload.get(spiffeId);
    if (!workload || issuedAt.getTime() >= workload.notBeforeMs) return undefined;
    return { code: 'ERR_TOKEN_REVOKED', message: `credentials of ${spiffeId} issued before ${new Date(workload.notBeforeMs).toISOString()} have been revoked` };
  }

  isRevoked(grantId: string | undefined, tokenId: string | undefined): boolean {
    return (grantId !== undefined && this.byGrant.has(grantId)) || (tokenId !== undefined && this.byToken.has(tokenId));
  }

  /** Makes the set overflowed until `untilMs`: for a revocation it heard but cannot represent. */
  refuseEverythingUntil(untilMs: number): void {
    this.overflowUntilMs = Math.max(this.overflowUntilMs, untilMs);
  }

  /** True while a revocation that did not fit (or could not be read) could still apply to a live token. */
  isOverflowed(nowMs = Date.now()): boolean {
    return this.overflowUntilMs > nowMs;
  }

  /** Forgets entries and watermarks whose tokens have expired. Returns how many were dropped. */
  prune(nowMs = Date.now()): number {
    let dropped = 0;
    for (const [grantId, entry] of this.byGrant) {
      if (entry.notAfterMs <= nowMs) {
        this.byGrant.delete(grantId);
        this.byToken.delete(entry.tokenId);
        dropped += 1;
      }
    }
    for (const watermarks of [this.byWorkload, this.byKey] as Map<string, { notAfterMs: number }>[]) {
      for (const [key, watermark] of watermarks) {
        if (watermark.notAfterMs <= nowMs) {
          watermarks.delete(key);
          dropped += 1;
        }
      }
    }
    return dropped;
  }

  /** Grant entries plus watermarks. */
  get size(): number {
    return this.byGrant.size + this.byWorkload.size + this.byKey.size;
  }

  /** What the set holds, by kind (for metrics and tests). */
  counts(): { grants: number; workloadWatermarks: number; keyWatermarks: number } {
    return { grants: this.byGrant.size, workloadWatermarks: this.byWorkload.size, keyWatermarks: this.byKey.size };
  }

  private holds(heard: HeardRevocation): boolean {
    if (heard.scope === 'grant') return this.byGrant.has(heard.grantId);
    return heard.scope === 'workload' ? this.byWorkload.has(heard.spiffeId) : this.byKey.has(heard.keyId);
  }
}
