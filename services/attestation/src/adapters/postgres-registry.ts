import { consumeEvidenceAndFindWorkload, findTrustedIssuer, toWorkloadMessage, type Database, type Kysely } from '@mayfly/db';
import type { Workload } from '@mayfly/proto';
import type { TrustedIssuer, TrustedIssuerSource } from '../attestors/oidc/trusted-issuers.js';
import type { RegistryAnswer, WorkloadRegistry } from '../domain/registry.js';

export class PostgresWorkloadRegistry implements WorkloadRegistry {
  constructor(private readonly db: Kysely<Database>) {}

  async consumeAndFind(use: { digest: string; issuer: string; subject: string; expiresAt: Date }): Promise<RegistryAnswer> {
    const { firstUse, workload } = await consumeEvidenceAndFindWorkload(this.db, use);
    return { firstUse, workload: workload ? toWorkloadMessage(workload) : undefined, disabled: workload?.disabled_at != null };
  }
}

/**
 * Trusted issuers from PostgreSQL, cached briefly: attestation is on every grant's path, and a
 * change to the issuer list may take `ttlMs` to be seen.
 */
export class PostgresTrustedIssuers implements TrustedIssuerSource {
  private readonly cache = new Map<string, { value: TrustedIssuer | undefined; until: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs = 10_000,
  ) {}

  async find(issuer: string): Promise<TrustedIssuer | undefined> {
    const now = Date.now();
    const hit = this.cache.get(issuer);
    if (hit && hit.until > now) return hit.value;
    const row = await findTrustedIssuer(this.db, issuer);
    const value: TrustedIssuer | undefined = row
      ? {
          issuer: row.issuer,
          audience: row.audience,
          jwksUri: row.jwks_uri ?? undefined,
          jwks: row.jwks ?? undefined,
          algorithms: row.algorithms,
          requireLowS: row.require_low_s,
          maxEvidenceLifetimeSeconds: row.max_evidence_lifetime_seconds,
          replayPolicy: row.replay_policy ?? (row.kind === 'kubernetes' ? 'reusable-until-expiry' : 'single-use'),
        }
      : undefined;
    // Remember misses too, so that a flood of bogus issuers cannot hammer the database;
    // but bound the cache, so that it cannot be used to exhaust memory either.
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(issuer, { value, until: now + this.ttlMs });
    return value;
  }
}
