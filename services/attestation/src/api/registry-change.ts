import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import type { Database, Kysely } from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';

const SOURCE = 'attestation';

export function changeRecord(kind: string, actor: string, detail: Record<string, unknown>): AuditEvent {
  return auditEvent(SOURCE, { kind, actor, outcome: 'success', detail });
}

/** Runs a registry change and commits its audit record with it, in one transaction; then hands the record to the audit service. */
export function auditedChanges(db: Kysely<Database>, audit: AuditTrail) {
  return async <T>(change: (tx: Kysely<Database>) => Promise<{ result: T; event: AuditEvent }>): Promise<T> => {
    const { result, event } = await db.transaction().execute(async (tx) => {
      const done = await change(tx);
      await audit.enqueue(tx, [done.event]);
      return done;
    });
    void audit.deliver([event]).catch(() => undefined);
    return result;
  };
}
