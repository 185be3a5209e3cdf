import { MayflyError } from '@mayfly/core';
import { findSessionState, sessionRefusal, toWorkloadMessage, type Database, type Kysely } from '@mayfly/db';
import type { AttestedEvidence, Workload } from '@mayfly/proto';
import type { SessionCertificate, SessionWorkload } from '../domain/workload-identity.js';

const MAX_CACHED = 10_000;

/**
 * Accepts or refuses session certificates from the registry, remembering each answer for at
 * most `ttlMs`: disabling a workload or revoking a certificate stops its grants within that
 * bound (MAYFLY_SESSION_CHECK_CACHE_MS, default 2 s), while a busy workload costs one read
 * per bound instead of one per grant.
 */
export class PostgresSessionRegistry {
  private readonly cache = new Map<string, { until: number; workload: Workload | undefined; evidence: AttestedEvidence; refusal: string | undefined }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs: number,
  ) {}

  /**
   * For a token not bound to a session (granted on evidence): its workload must still be
   * registered and enabled. Not cached: renewals are rare next to grants.
   */
  async checkWorkloadEnabled(spiffeId: string): Promise<void> {
    const { workload } = await findSessionState(this.db, spiffeId, '');
    if (!workload) throw new MayflyError('ERR_SVID_REJECTED', `${spiffeId} is no longer a registered workload`);
    if (workload.disabled_at) throw new MayflyError('ERR_SVID_REJECTED', `workload ${spiffeId} is disabled (since ${workload.disabled_at.toISOString()})`);
  }

  async check(certificate: SessionCertificate): Promise<SessionWorkload> {
    const key = `${certificate.serial}|${certificate.spiffeId}`;
    const now = Date.now();
    let entry = this.cache.get(key);
    if (!entry || entry.until <= now) {
      const { workload, svid } = await findSessionState(this.db, certificate.spiffeId, certificate.serial);
      const refusal = sessionRefusal(certificate, workload, svid);
      entry = {
        until: now + this.ttlMs,
        workload: workload && !refusal ? toWorkloadMessage(workload) : undefined,
        evidence: { attestor: svid?.attestor ?? '', issuer: svid?.issuer ?? '', claims: svid?.claims ?? {} },
        refusal,
      };
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(key, entry);
    }
    if (entry.refusal || !entry.workload) {
      throw new MayflyError('ERR_SVID_REJECTED', `session certificate no longer accepted: ${entry.refusal ?? 'unknown'}; attest again with fresh evidence (StartSession)`);
    }
    return { workload: entry.workload, evidence: entry.evidence };
  }
}
