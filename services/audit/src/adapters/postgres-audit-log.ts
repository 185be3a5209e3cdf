import { appendAuditEvents, listAuditEvents, listUsageFacts, listWorkloadCeilings, type Database, type Kysely } from '@mayfly/db';
import type { AuditLog } from '../domain/ports.js';

/** The audit log in PostgreSQL (the database chains each insert: migration 008). */
export function postgresAuditLog(db: Kysely<Database>): AuditLog {
  return {
    append: (events) => appendAuditEvents(db, events.map(({ detailJson, ...event }) => ({ ...event, detail: detailJson }))),
    list: (query) => listAuditEvents(db, query),
    usageFacts: (since, workload) => listUsageFacts(db, since, workload),
    ceilings: (workload) => listWorkloadCeilings(db, workload),
  };
}
