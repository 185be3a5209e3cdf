import { sha256Hex } from '@mayfly/core';
import type { AttestedSubject, Attestor } from '../attestor.js';
import { attestationFailed } from '../attestation-failure.js';

/** Join tokens look like this: a prefix (so that scanners and people recognise one) and 32 random bytes. */
export const JOIN_TOKEN = /^mfjt_[A-Za-z0-9_-]{43}$/;

/** A join token as its store knows it. */
export interface JoinTokenRecord {
  readonly id: string;
  readonly spiffeId: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}

/** Where join tokens are kept (as digests) and used up. */
export interface JoinTokenStore {
  /**
   * Marks the token with this digest used, if it is unused and unexpired, in one step; says
   * whether this was its first use. A refused second use is audited by the store.
   */
  consume(digest: string, now: Date): Promise<{ firstUse: boolean; token: JoinTokenRecord | undefined }>;
}

/**
 * Join tokens bootstrap a workload that has no platform identity yet: an operator creates a
 * one-time token for one registered SPIFFE ID (mayfly join-tokens create), the workload presents
 * it once. The first use attests; a second use, an expired or an unknown token is refused.
 * The session it starts rotates its certificate without evidence (there is none to present
 * again) for `sessionSeconds` (MAYFLY_JOIN_TOKEN_SESSION_SECONDS, default 24 h); each
 * certificate lives MAYFLY_SVID_MAX_SECONDS at most.
 */
export class JoinTokenAttestor implements Attestor {
  readonly name = 'join-token';
  readonly evidenceKind = 'join_token' as const;

  constructor(
    private readonly store: JoinTokenStore,
    private readonly sessionSeconds = 86_400,
  ) {}

  async attest(evidence: string): Promise<AttestedSubject> {
    if (!JOIN_TOKEN.test(evidence)) throw this.failed('evidence is not a join token (mfjt_ followed by 43 characters)');
    const digest = sha256Hex(evidence);
    const now = new Date();
    const { firstUse, token } = await this.store.consume(digest, now);
    if (!token) throw this.failed('this join token is unknown (never created, or withdrawn); ask an operator for a new one');
    if (!firstUse) {
      if (token.usedAt) throw this.failed(`join token ${token.id} was already used at ${token.usedAt.toISOString()}; a join token attests once — if this workload did not use it, treat it as stolen`);
      throw this.failed(`join token ${token.id} expired at ${token.expiresAt.toISOString()}; ask an operator for a new one`);
    }
    const spiffeId = token.spiffeId;
    const sessionEnds = new Date(now.getTime() + this.sessionSeconds * 1000);
    return {
      attestor: this.name,
      issuer: 'mayfly-join-token',
      issuerKind: 'join-token',
      subject: spiffeId,
      // The token is spent; the session it starts may last (and rotate) until then.
      expiresAt: sessionEnds,
      rotatableUntil: sessionEnds,
      evidenceDigest: digest,
      replayPolicy: 'single-use',
      claims: { sub: spiffeId, spiffe_id: spiffeId, trust_domain: new URL(spiffeId).host, join_token_id: token.id },
      boundSpiffeId: spiffeId,
    };
  }

  private failed(reason: string) {
    return attestationFailed(this.name, reason);
  }
}
