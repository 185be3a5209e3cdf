import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import { consumeJoinToken, type Database, type Kysely } from '@mayfly/db';
import type { JoinTokenRecord, JoinTokenStore } from '../attestors/join-token/join-token-attestor.js';

/**
 * Join tokens in PostgreSQL (digests only). Each use is audited here, where it happens: the first
 * (join_token.used) and, louder, any later one (join_token.reuse_refused) — a second presentation
 * means the token leaked or a workload is being impersonated.
 */
export class PostgresJoinTokens implements JoinTokenStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditTrail,
  ) {}

  async consume(digest: string, now: Date): Promise<{ firstUse: boolean; token: JoinTokenRecord | undefined }> {
    const { firstUse, token } = await consumeJoinToken(this.db, digest, now);
    if (!token) return { firstUse, token: undefined };
    const record: JoinTokenRecord = { id: token.id, spiffeId: token.spiffe_id, expiresAt: token.expires_at, usedAt: token.used_at };
    if (firstUse) await this.record('join_token.used', 'success', record);
    else if (token.used_at) await this.record('join_token.reuse_refused', 'denied', record);
    return { firstUse, token: record };
  }

  private async record(kind: string, outcome: 'success' | 'denied', token: JoinTokenRecord): Promise<void> {
    const event = auditEvent('attestation', {
      kind,
      actor: outcome === 'success' ? token.spiffeId : 'unattested',
      outcome,
      detail: { joinTokenId: token.id, spiffeId: token.spiffeId, ...(token.usedAt ? { firstUsedAt: token.usedAt.toISOString() } : {}) },
    });
    await this.db.transaction().execute((tx) => this.audit.enqueue(tx, [event]));
    void this.audit.deliver([event]).catch(() => undefined);
  }
}
