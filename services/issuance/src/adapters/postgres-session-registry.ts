import { MayflyError } from '@mayfly/core';
import { findSessionState, sessionRefusal, toWorkloadMessage, type Database, type Kysely, type SvidRow, type WorkloadRow } from '@mayfly/db';
import type { AttestedEvidence, Workload } from '@mayfly/proto';
import type { SessionCertificate, SessionWorkload } from '../domain/workload-identity.js';

const MAX_CACHED = 10_000;

/** What the registry holds about one session: its workload and the certificate's record. */
export type SessionLookup = (spiffeId: string, serial: string) => Promise<{ workload: WorkloadRow | undefined; svid: SvidRow | undefined }>;

interface SessionAnswer {
  readonly until: number;
  readonly workload: Workload | undefined;
  readonly evidence: AttestedEvidence;
  readonly refusal: string | undefined;
}

/**
 * Accepts or refuses session certificates from the registry, remembering each answer for at
 * most `ttlMs`: disabling a workload or revoking a certificate stops its grants within that
 * bound (MAYFLY_SESSION_CHECK_CACHE_MS, default 2 s), while a busy workload costs one read
 * per bound instead of one per grant — also when the answer runs out with many of its grants in
 * flight: they share one read. (Before, every grant that found it expired made its own: under 64
 * callers a 12 s window made 572 reads, against 371–380 with one per session per bound.)
 */
export class PostgresSessionRegistry {
  private readonly cache = new Map<string, SessionAnswer>();
  private readonly reading = new Map<string, Promise<SessionAnswer>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs: number,
    private readonly lookUp: SessionLookup = (spiffeId, serial) => findSessionState(db, spiffeId, serial),
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
    const cached = this.cache.get(key);
    const entry = cached && cached.until > Date.now() ? cached : await this.read(key, certificate);
    if (entry.refusal || !entry.workload) {
      throw new MayflyError('ERR_SVID_REJECTED', `session certificate no longer accepted: ${entry.refusal ?? 'unknown'}; attest again with fresh evidence (StartSession)`);
    }
    return { workload: entry.workload, evidence: entry.evidence };
  }

  /** The registry's answer now: one read per session at a time, shared by all who wait for it. */
  private read(key: string, certificate: SessionCertificate): Promise<SessionAnswer> {
    let reading = this.reading.get(key);
    if (!reading) {
      reading = this.readAndRemember(key, certificate).finally(() => this.reading.delete(key));
      this.reading.set(key, reading);
    }
    return reading;
  }

  private async readAndRemember(key: string, certificate: SessionCertificate): Promise<SessionAnswer> {
    // The bound counts from before the read: an answer is never older than ttlMs.
    const until = Date.now() + this.ttlMs;
    const { workload, svid } = await this.lookUp(certificate.spiffeId, certificate.serial);
    const refusal = sessionRefusal(certificate, workload, svid);
    const answer: SessionAnswer = {
      until,
      workload: workload && !refusal ? toWorkloadMessage(workload) : undefined,
      evidence: { attestor: svid?.attestor ?? '', issuer: svid?.issuer ?? '', claims: svid?.claims ?? {} },
      refusal,
    };
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, answer);
    return answer;
  }
}
