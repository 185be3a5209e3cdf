import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import { appendPolicySet, findPolicySet, latestPolicySet, listPolicySets, seedPolicySet, type Database, type Kysely, type PolicySetRow } from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';
import type { PolicyFile } from './policy-files.js';

/** A set to store: its checked files and digest, who stores it and why. */
export interface PolicySetChange {
  readonly files: readonly PolicyFile[];
  readonly digest: string;
  readonly actor: string;
  readonly reason: string;
  readonly rolledBackFrom?: number;
}

/**
 * Versioned policy sets in PostgreSQL. Every stored version is committed with its audit record
 * (policy.pushed, policy.rolled_back, policy.seeded) and announced to every decision replica in
 * the same transaction.
 */
export class PostgresPolicyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditTrail,
  ) {}

  active(): Promise<PolicySetRow | undefined> {
    return latestPolicySet(this.db);
  }

  find(version: number): Promise<PolicySetRow | undefined> {
    return version === 0 ? latestPolicySet(this.db) : findPolicySet(this.db, version);
  }

  list(limit: number): Promise<PolicySetRow[]> {
    return listPolicySets(this.db, limit);
  }

  /** Stores the set as the next version (none when it equals the active one). */
  async push(change: PolicySetChange): Promise<{ row: PolicySetRow; created: boolean }> {
    const kind = change.rolledBackFrom === undefined ? 'policy.pushed' : 'policy.rolled_back';
    let event: AuditEvent | undefined;
    const result = await this.db.transaction().execute(async (tx) => {
      const stored = await appendPolicySet(tx, { ...change, createdBy: change.actor });
      if (stored.created) {
        event = this.record(kind, change.actor, stored.row);
        await this.audit.enqueue(tx, [event]);
      }
      return stored;
    });
    if (event) void this.audit.deliver([event]).catch(() => undefined);
    return result;
  }

  /** Stores the directory's set as version 1 if nothing is stored yet; undefined if something was. */
  async seed(change: PolicySetChange): Promise<PolicySetRow | undefined> {
    let event: AuditEvent | undefined;
    const row = await this.db.transaction().execute(async (tx) => {
      const seeded = await seedPolicySet(tx, { ...change, createdBy: change.actor });
      if (seeded) {
        event = this.record('policy.seeded', change.actor, seeded);
        await this.audit.enqueue(tx, [event]);
      }
      return seeded;
    });
    if (event) void this.audit.deliver([event]).catch(() => undefined);
    return row;
  }

  private record(kind: string, actor: string, row: PolicySetRow): AuditEvent {
    return auditEvent('decision', {
      kind,
      actor,
      outcome: 'success',
      detail: {
        version: row.version,
        digest: row.digest,
        files: row.files.map((file) => file.name),
        ...(row.reason ? { reason: row.reason } : {}),
        ...(row.rolled_back_from ? { rolledBackFrom: row.rolled_back_from } : {}),
      },
    });
  }
}
