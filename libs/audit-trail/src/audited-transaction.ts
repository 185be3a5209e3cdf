import type { Database, Kysely } from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';
import type { AuditTrail } from './audit-trail.js';

/** What a change returns: its result, and the audit events that record it. */
export interface AuditedChange<T> {
  readonly result: T;
  readonly events: readonly AuditEvent[];
}

export interface AuditedTransactionOptions {
  /**
   * 'background' (the default) hands the committed events to the audit service without waiting;
   * 'caller' leaves that to the caller (it delivers them after work it does not want to delay,
   * such as publishing a revocation). Either way they are in the outbox: nothing is lost.
   */
  readonly deliver?: 'background' | 'caller';
}

/**
 * The one way Mayfly changes state: the change and its audit events commit in one local
 * transaction (the events go to the outbox), so there is never a change without its record nor
 * a record of a change that rolled back. Delivery to the audit service follows, outside the
 * transaction: issuance never waits for the audit service (SPEC invariant 5).
 */
export async function auditedTransaction<T>(
  db: Kysely<Database>,
  audit: AuditTrail,
  change: (tx: Kysely<Database>) => Promise<AuditedChange<T>>,
  options: AuditedTransactionOptions = {},
): Promise<AuditedChange<T>> {
  const done = await db.transaction().execute(async (tx) => {
    const result = await change(tx);
    await audit.enqueue(tx, result.events);
    return result;
  });
  if ((options.deliver ?? 'background') === 'background') void audit.deliver(done.events).catch(() => undefined);
  return done;
}
