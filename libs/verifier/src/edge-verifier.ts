import { KeyObject, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, customFetch, type CryptoKey, type CompactJWSHeaderParameters, type JWTVerifyGetKey } from 'jose';
import { subscribeRevocations, type FeedState, type NatsConnection, type RevocationSubscription } from '@mayfly/bus';
import { ACCESS_TOKEN_ALGORITHMS, MayflyError, isMayflyError } from '@mayfly/core';
import { httpsFetch } from '@mayfly/pki';
import type { RevocationEvent } from '@mayfly/proto';
import { mayflyMetrics } from '@mayfly/telemetry';
import { readAccessTokenClaims, type AccessTokenClaims, type TokenDelegation } from './access-token.js';
import type { UsageRecorder } from './usage-recorder.js';
import { checkAccessTokenHeader, checkIssuerAndTimes, decodeCompactJws, verifyEd25519 } from './compact-jws.js';
import { reject, rejectionFromJose, type Rejection } from './rejection.js';
import { remoteFeedKeys } from './feed-keys.js';
import { readRevocationEvent } from './revocation-event.js';
import { DEFAULT_MAX_REVOCATION_ENTRIES, RevocationSet } from './revocation-set.js';

export interface EdgeVerifierOptions {
  /** The token issuer (iss) to trust. */
  readonly issuer: string;
  /** Where that issuer publishes its JWKS. */
  readonly jwksUrl: string;
  readonly nats: NatsConnection;
  readonly stream: string;
  readonly subjectPrefix: string;
  /**
   * Where the revocation service publishes its feed keys (https; its REVOCATION_KEYS_PATH). The
   * edge acts only on revocation events, markers and heartbeats signed by one of them.
   */
  readonly revocationKeysUrl: string;
  /** The SPIFFE ID the revocation keys server's certificate must name (the revocation service's). */
  readonly revocationKeysSpiffeId?: string | undefined;
  /** PEM CA to trust for an https JWKS URL (the mesh CA); without it the system store is used. */
  readonly jwksCaFile?: string | undefined;
  /**
   * The SPIFFE ID the JWKS server's certificate must name (issuance's, e.g.
   * spiffe://<trust domain>/mayfly/issuance). Set it whenever jwksCaFile is a CA that signs
   * other identities too: otherwise any of them could serve keys.
   */
  readonly jwksSpiffeId?: string | undefined;
  /**
   * How long a fetched JWKS is trusted before it is fetched again (default 300 s). A key removed
   * from the keyring (a compromised one) stops verifying here within this time.
   */
  readonly jwksCacheMaxAgeMs?: number;
  /** Allow an http: JWKS URL (development only). Default false: such a URL is a start-up error. */
  readonly allowInsecureJwks?: boolean;
  /** Allowed clock difference for exp/iat, seconds. Default 5. */
  readonly clockToleranceSeconds?: number;
  /**
   * How many verified tokens to remember (default 10,000; 0 turns the cache off). A token seen
   * again skips the signature check; its expiry, audience, scope and revocation are checked on
   * every call, and an entry never outlives the token nor the JWKS it was checked against
   * (jwksCacheMaxAgeMs): a withdrawn signing key takes its cached tokens with it.
   */
  readonly verifiedCacheSize?: number;
  /**
   * The longest any Mayfly token lives (issuance's MAYFLY_MAX_TTL_SECONDS; default 86,400). A
   * revocation entry is kept no longer than this from now, whatever its event says.
   */
  readonly maxTokenLifetimeSeconds?: number;
  /** Cap on remembered revocations (default 1,000,000). Past it the edge refuses every token. */
  readonly maxRevocationEntries?: number;
  /** How often the feed checks the stream for recreation or lost events, ms (default 2,000). */
  readonly feedCheckIntervalMs?: number;
  /**
   * Counts accepted tokens per grant, resource and action for usage reports (the sidecar sends
   * them to the audit service). Omit it to record nothing.
   */
  readonly usage?: UsageRecorder;
  /**
   * The staleness bound (default 5 s): with no revocation-service heartbeat confirming the feed
   * for this long, every token is refused (ERR_REVOCATION_FEED_STALE) until one does.
   */
  readonly staleAfterMs?: number;
  /**
   * Consumes a single-use token before it is accepted (the sidecar asks the revocation service,
   * where the first consumer wins). Throws MayflyError ERR_TOKEN_CONSUMED (or
   * ERR_GRANT_NOT_ACTIVE) when it was used already. Without it, single-use tokens are refused
   * (ERR_SINGLE_USE_UNAVAILABLE): an edge that cannot consume cannot promise "once".
   */
  readonly consumeSingleUse?: (token: { grantId: string; tokenId: string; resource: string; action: string }) => Promise<void>;
  /** Called when a revocation is applied, with the delay since it was revoked (ms). */
  readonly onRevocationApplied?: (event: RevocationEvent, delayMs: number) => void;
  /** A bad event, a full revocation set, or a feed failure. Never thrown: the edge fails closed instead. */
  readonly onFeedError?: (error: unknown) => void;
  /** The feed went live, or stopped being live (then every token is refused). */
  readonly onFeedStateChange?: (state: FeedState) => void;
}

/**
 * An accepted token's claims, and — for a delegated one — its chain: `delegation.actor` is the
 * workload presenting it, acting for `claims.spiffeId` (sub) through `delegation.delegators`.
 */
export type Verification = { readonly ok: true; readonly claims: AccessTokenClaims; readonly delegation: TokenDelegation | undefined } | Rejection;

export interface VerifyOptions {
  /** The resource this edge guards; must equal the token's aud. */
  readonly audience: string;
  /** If given, must be one of the token's scopes. */
  readonly action?: string | undefined;
  /**
   * The client certificate (DER) the caller presented over mutual TLS, if any. A token bound
   * to a certificate (cnf.x5t#S256) is refused without exactly that one (ERR_TOKEN_BINDING).
   */
  readonly peerCertificate?: Uint8Array | undefined;
}

/** RFC 8705 thumbprint of a certificate: base64url of the SHA-256 of its DER. */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** Only the algorithm Mayfly's issuance signs with (crypto-policy.ts). Anything else is refused. */
const ALLOWED_ALGORITHMS = [...ACCESS_TOKEN_ALGORITHMS];

/**
 * Verifies Mayfly access tokens offline: signature against the issuer's JWKS (cached; an
 * unknown kid triggers a rate-limited refetch), issuer, audience, type, expiry, scope, and the
 * revocations heard on the stream. It refuses everything until it has caught up with the
 * stream, so a freshly started edge never accepts a token revoked before it started.
 */
export class EdgeVerifier {
  readonly revocations: RevocationSet;
  private readonly jwks: JWTVerifyGetKey;
  private subscription: RevocationFeed | undefined;
  /** Verified tokens, their claims and when they were verified, oldest first (Map keeps insertion order). */
  private readonly verified = new Map<string, { claims: AccessTokenClaims; verifiedAt: number }>();
  private readonly jwksCacheMaxAgeMs: number;
  private readonly verifiedCacheSize: number;
  private readonly keyObjects = new WeakMap<CryptoKey, KeyObject>();
  private pruneTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: VerifierRules,
    keys: JWTVerifyGetKey,
  ) {
    this.verifiedCacheSize = options.verifiedCacheSize ?? 10_000;
    this.jwksCacheMaxAgeMs = options.jwksCacheMaxAgeMs ?? 300_000;
    this.revocations = new RevocationSet(options.maxRevocationEntries ?? DEFAULT_MAX_REVOCATION_ENTRIES);
    this.jwks = keys;
  }

  /**
   * The verifier over a key source and a revocation feed its caller provides: what start() does
   * with the JWKS over https and the NATS stream, and what unit tests do with a local key and a
   * feed in hand. `follow` is given the function that applies each (already verified) event.
   */
  static over(rules: VerifierRules, keys: JWTVerifyGetKey, follow: (apply: (event: RevocationEvent) => void) => RevocationFeed): EdgeVerifier {
    const verifier = new EdgeVerifier(rules, keys);
    verifier.subscription = follow((event) => verifier.apply(event));
    verifier.startPruning();
    return verifier;
  }

  /** Starts following the revocation stream; resolves once subscribed (not yet caught up). */
  static async start(options: EdgeVerifierOptions): Promise<EdgeVerifier> {
    const verifier = new EdgeVerifier(options, remoteKeys(options));
    verifier.subscription = await subscribeRevocations(options.nats, {
      stream: options.stream,
      subjectPrefix: options.subjectPrefix,
      feedKeys: remoteFeedKeys({
        url: options.revocationKeysUrl,
        caFile: options.jwksCaFile,
        spiffeId: options.revocationKeysSpiffeId,
        allowHttp: options.allowInsecureJwks ?? false,
        cacheMaxAgeMs: options.jwksCacheMaxAgeMs,
      }),
      onEvent: (event) => verifier.apply(event),
      onError: (error) => verifier.reportFeedError(error),
      onStateChange: (state) => options.onFeedStateChange?.(state),
      ...(options.feedCheckIntervalMs ? { checkIntervalMs: options.feedCheckIntervalMs } : {}),
      ...(options.staleAfterMs ? { staleAfterMs: options.staleAfterMs } : {}),
    });
    verifier.startPruning();
    return verifier;
  }

  /** Expired revocations are forgotten every 30 s (a sync sweep of memory: no Periodic, nothing to fail or log). */
  private startPruning(): void {
    this.pruneTimer = setInterval(() => this.revocations.prune(), 30_000);
    this.pruneTimer.unref();
  }

  /** Resolves when the verifier has applied every revocation that existed when it started. */
  get ready(): Promise<void> {
    return this.subscription?.caughtUp ?? Promise.resolve();
  }

  async verify(token: string, options: VerifyOptions): Promise<Verification> {
    const result = await this.check(token, options);
    mayflyMetrics().edgeVerifications.add(1, { result: result.ok ? 'accepted' : result.code });
    if (result.ok && this.options.usage) {
      const { grantId, taskId } = result.claims;
      // Usage is the actor's: for a delegated token, the workload presenting it.
      const spiffeId = result.delegation?.actor ?? result.claims.spiffeId;
      this.options.usage.record({ grantId, spiffeId, taskId, resource: options.audience, action: options.action ?? '' }, new Date());
    }
    return result;
  }

  /** Whether this edge can vouch for revocations now; if not, it refuses every token. */
  get feedState(): FeedState {
    return this.subscription?.state() ?? 'catching-up';
  }

  private async check(token: string, options: VerifyOptions): Promise<Verification> {
    const unready = feedRejection(this.feedState);
    if (unready) return unready;
    if (this.revocations.isOverflowed()) {
      return reject('ERR_REVOCATION_SET_FULL', 'edge heard more live revocations than it may keep (maxRevocationEntries), or one it cannot apply; refusing every token until they expire');
    }
    const cached = this.verified.get(token);
    const claims = cached && Date.now() - cached.verifiedAt < this.jwksCacheMaxAgeMs ? cached.claims : await this.verifySignatureAndClaims(token);
    if ('ok' in claims) return claims; // a rejection
    const toleranceMs = (this.options.clockToleranceSeconds ?? 5) * 1000;
    if (claims.expiresAt.getTime() + toleranceMs <= Date.now()) {
      this.verified.delete(token);
      return reject('ERR_TOKEN_EXPIRED', 'token has expired');
    }
    if (claims.audience !== options.audience) return reject('ERR_TOKEN_AUDIENCE', 'token is not for this resource (aud mismatch)');
    const revoked = this.revocations.revocationOf(claims);
    if (revoked) return reject(revoked.code, revoked.message);
    if (options.action !== undefined && !claims.scopes.includes(options.action)) {
      return reject('ERR_SCOPE_NOT_GRANTED', `action "${options.action}" is not in the token's scope`);
    }
    if (claims.certificateThumbprint !== undefined) {
      if (!options.peerCertificate || options.peerCertificate.length === 0) {
        return reject('ERR_TOKEN_BINDING', 'token is bound to a client certificate (cnf.x5t#S256); the caller presented none');
      }
      if (certificateThumbprint(options.peerCertificate) !== claims.certificateThumbprint) {
        return reject('ERR_TOKEN_BINDING', "token is bound to another client certificate than the caller's");
      }
    }
    if (claims.singleUse) return this.consume(claims, options);
    return { ok: true, claims, delegation: claims.delegation };
  }

  /** The last step for a single-use token: it is accepted only if this edge consumed it now. */
  private async consume(claims: AccessTokenClaims, options: VerifyOptions): Promise<Verification> {
    const consume = this.options.consumeSingleUse;
    if (!consume) return reject('ERR_SINGLE_USE_UNAVAILABLE', 'token is single-use and this edge cannot consume tokens (no revocation service configured); refused rather than accepted twice');
    try {
      await consume({ grantId: claims.grantId, tokenId: claims.tokenId, resource: options.audience, action: options.action ?? '' });
      return { ok: true, claims, delegation: claims.delegation };
    } catch (error) {
      if (isMayflyError(error, 'ERR_TOKEN_CONSUMED') || isMayflyError(error, 'ERR_GRANT_NOT_ACTIVE')) return reject('ERR_TOKEN_CONSUMED', `single-use token of grant ${claims.grantId} was used already`);
      return reject('ERR_SINGLE_USE_UNAVAILABLE', `single-use token could not be consumed (${(error as Error).message}); refused rather than risk a second use`);
    }
  }

  /** Forgets every verified token, e.g. after a signing key is withdrawn. */
  clearVerifiedCache(): void {
    this.verified.clear();
  }

  /**
   * The full check: header rules (RFC 8725), signature against the JWKS, issuer, time claims,
   * Mayfly claims. EdDSA, what Mayfly signs with, is checked synchronously with node:crypto
   * (about twice as fast as the WebCrypto path); any other allowed algorithm goes through jose.
   * jose fetches and caches the JWKS either way, refetching (rate-limited) on an unknown kid.
   */
  private async verifySignatureAndClaims(token: string): Promise<AccessTokenClaims | Rejection> {
    const jws = decodeCompactJws(token);
    if ('ok' in jws) return jws;
    const badHeader = checkAccessTokenHeader(jws.header, ALLOWED_ALGORITHMS);
    if (badHeader) return badHeader;
    const tolerance = this.options.clockToleranceSeconds ?? 5;
    let payload: Record<string, unknown>;
    try {
      // The header check allows EdDSA only (crypto-policy.ts): node:crypto verifies it directly.
      const failure = verifyEd25519(jws, await this.keyFor(jws.header as CompactJWSHeaderParameters, token)) ?? checkIssuerAndTimes(jws.payload, this.options.issuer, tolerance);
      if (failure) return failure;
      payload = jws.payload;
    } catch (error) {
      return rejectionFromJose(error);
    }
    const kid = jws.header['kid'];
    const claims = readAccessTokenClaims(payload, typeof kid === 'string' ? kid : undefined);
    if (!claims) return reject('ERR_TOKEN_CLAIMS', 'token lacks a Mayfly claim (sub, aud, jti, scope, grant_id or task_id), or its delegation chain (act, parent_grant_ids) is malformed');
    if (this.verifiedCacheSize > 0) {
      if (this.verified.size >= this.verifiedCacheSize) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.delete(token); // re-inserted as the newest
      this.verified.set(token, { claims, verifiedAt: Date.now() });
    }
    return claims;
  }

  /** The JWKS key for a token's kid, as a node:crypto KeyObject (converted once per key). */
  private async keyFor(header: CompactJWSHeaderParameters, token: string): Promise<KeyObject> {
    const [encodedHeader, payload, signature] = token.split('.') as [string, string, string];
    const key = await this.jwks(header, { protected: encodedHeader, payload, signature });
    if (key instanceof KeyObject) return key;
    let keyObject = this.keyObjects.get(key as CryptoKey);
    if (!keyObject) {
      keyObject = KeyObject.from(key as CryptoKey);
      this.keyObjects.set(key as CryptoKey, keyObject);
    }
    return keyObject;
  }

  private reportFeedError(error: unknown): void {
    try {
      this.options.onFeedError?.(error);
    } catch {
      // The embedding process's handler must not break the feed.
    }
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.subscription?.stop();
  }

  private apply(event: RevocationEvent): void {
    const entry = readRevocationEvent(event, (this.options.maxTokenLifetimeSeconds ?? 86_400) * 1000);
    if ('problem' in entry) {
      if (entry.failClosedUntilMs !== undefined) this.revocations.refuseEverythingUntil(entry.failClosedUntilMs);
      this.reportFeedError(new Error(`${entry.failClosedUntilMs === undefined ? 'ignored a malformed' : 'refusing every token for an unknown'} revocation event: ${entry.problem}`));
      return;
    }
    if (!this.revocations.add(entry)) {
      this.reportFeedError(new Error(`revocation set is full (${this.revocations.size} entries): refusing every token until entries expire`));
      return;
    }
    // Only live events measure propagation; replayed ones measure how long the edge was away.
    if (event.revokedAt && this.subscription?.isCaughtUp()) {
      const delayMs = Date.now() - event.revokedAt.getTime();
      mayflyMetrics().revocationPropagation.record(delayMs);
      this.options.onRevocationApplied?.(event, delayMs);
    }
  }
}

/** Why a feed that is not live makes the edge refuse; undefined when it is live. */
function feedRejection(state: FeedState): Rejection | undefined {
  switch (state) {
    case 'live':
      return undefined;
    case 'catching-up':
      return reject('ERR_REVOCATION_FEED_NOT_READY', 'edge has not yet caught up with the revocation stream');
    case 'resyncing':
      return reject('ERR_REVOCATION_FEED_RESYNCING', 'the revocation stream was recreated or lost events; edge is replaying it and refuses tokens until the revocation service has republished');
    case 'stale':
      return reject('ERR_REVOCATION_FEED_STALE', 'edge has not heard from the revocation service within its staleness bound; a revocation may exist that it has not seen, so it refuses every token until it has');
    case 'failed':
      return reject('ERR_REVOCATION_FEED_FAILED', 'the revocation feed failed; edge refuses tokens until it recovers');
  }
}

/** What the verifier needs of its revocation feed: the NATS subscription in production. */
export type RevocationFeed = Pick<RevocationSubscription, 'state' | 'isCaughtUp' | 'caughtUp' | 'stop'>;

/** The verifier's rules, apart from where its keys and revocations come from. */
export type VerifierRules = Omit<EdgeVerifierOptions, 'jwksUrl' | 'nats' | 'stream' | 'subjectPrefix' | 'revocationKeysUrl' | 'revocationKeysSpiffeId' | 'jwksCaFile' | 'jwksSpiffeId' | 'allowInsecureJwks' | 'feedCheckIntervalMs' | 'staleAfterMs' | 'onFeedStateChange'>;

/** The issuer's JWKS over https (pinned to its SPIFFE ID), cached and refetched on an unknown kid. */
function remoteKeys(options: EdgeVerifierOptions): JWTVerifyGetKey {
  if (options.jwksUrl.startsWith('http:') && !options.allowInsecureJwks) {
    throw new MayflyError('ERR_CONFIG', `the JWKS URL ${options.jwksUrl} is plain http: signing keys must come over https (or set MAYFLY_INSECURE_DEV=true for development)`);
  }
  // Read once here so that a missing CA file is a start-up error; fetches re-read it (rotation).
  if (options.jwksCaFile) readFileSync(options.jwksCaFile);
  return createRemoteJWKSet(new URL(options.jwksUrl), {
    timeoutDuration: 2_000,
    cooldownDuration: 5_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 300_000,
    [customFetch]: httpsFetch({
      caFile: options.jwksCaFile,
      spiffeId: options.jwksSpiffeId,
      allowHttp: options.allowInsecureJwks ?? false,
    }),
  });
}
