import { defaultReplayPolicy } from '@mayfly/core';
import { findTrustedIssuer, listTrustedIssuers, type Database, type Kysely, type TrustedIssuerRow } from '@mayfly/db';
import type { TrustedIssuer, TrustedIssuerSource } from '../attestors/trusted-issuers.js';

/**
 * Trusted issuers from PostgreSQL, cached briefly: attestation is on every grant's path, and a
 * change to the issuer list may take `ttlMs` to be seen.
 */
export class PostgresTrustedIssuers implements TrustedIssuerSource {
  private readonly cache = new Map<string, { value: TrustedIssuer | undefined; until: number }>();
  private byKind: { value: readonly TrustedIssuer[]; until: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs = 10_000,
  ) {}

  async find(issuer: string): Promise<TrustedIssuer | undefined> {
    const now = Date.now();
    const hit = this.cache.get(issuer);
    if (hit && hit.until > now) return hit.value;
    const row = await findTrustedIssuer(this.db, issuer);
    const value = row ? toTrustedIssuer(row) : undefined;
    // Remember misses too, so that a flood of bogus issuers cannot hammer the database;
    // but bound the cache, so that it cannot be used to exhaust memory either.
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(issuer, { value, until: now + this.ttlMs });
    return value;
  }

  async ofKind(kind: TrustedIssuer['kind']): Promise<readonly TrustedIssuer[]> {
    const now = Date.now();
    if (!this.byKind || this.byKind.until <= now) {
      this.byKind = { value: (await listTrustedIssuers(this.db)).map(toTrustedIssuer), until: now + this.ttlMs };
    }
    return this.byKind.value.filter((issuer) => issuer.kind === kind);
  }
}

function toTrustedIssuer(row: TrustedIssuerRow): TrustedIssuer {
  return {
    issuer: row.issuer,
    kind: row.kind,
    audiences: row.audiences,
    jwksUri: row.jwks_uri ?? undefined,
    jwks: row.jwks ?? undefined,
    algorithms: row.algorithms,
    requireLowS: row.require_low_s,
    maxEvidenceLifetimeSeconds: row.max_evidence_lifetime_seconds,
    replayPolicy: row.replay_policy ?? defaultReplayPolicy(row.kind),
    trustDomain: row.trust_domain ?? (row.kind === 'spiffe' ? row.issuer.replace('spiffe://', '') : undefined),
    caPem: row.ca_pem ?? undefined,
  };
}
