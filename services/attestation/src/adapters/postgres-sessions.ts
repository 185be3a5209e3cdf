import { auditedTransaction, type AuditTrail } from '@mayfly/audit-trail';
import { findRotationSuccessor, findSessionState, recordSvid, recordSvidRotation, revokeSvid, revokeSvidsIssuedBefore, setWorkloadDisabled, type Database, type Kysely } from '@mayfly/db';
import type { SessionControls, SvidStore } from '../domain/ports.js';

/** SVID records in PostgreSQL. */
export function postgresSvidStore(db: Kysely<Database>): SvidStore {
  return {
    sessionState: (spiffeId, serial) => findSessionState(db, spiffeId, serial),
    rotationSuccessor: (serial) => findRotationSuccessor(db, serial),
    record: (svid) => recordSvid(db, svid),
    recordRotation: (next, at) => recordSvidRotation(db, next, at),
  };
}

/** Operator changes to sessions, with their audit events in the same transaction. */
export function postgresSessionControls(db: Kysely<Database>, audit: AuditTrail): SessionControls {
  /** Commits the change with its event only when it changed something. */
  const audited = async <T>(change: (tx: Kysely<Database>) => Promise<T>, changed: (result: T) => boolean, event: Parameters<AuditTrail['deliver']>[0][number]): Promise<T> =>
    (
      await auditedTransaction(db, audit, async (tx) => {
        const result = await change(tx);
        return { result, events: changed(result) ? [event] : [] };
      })
    ).result;
  return {
    setWorkloadDisabled: (spiffeId, disabledAt, event) => audited((tx) => setWorkloadDisabled(tx, spiffeId, disabledAt), (done) => done, event),
    revokeSvid: (serial, reason, at, event) => audited((tx) => revokeSvid(tx, serial, reason, at), (revoked) => revoked !== undefined, event),
    revokeSvidsIssuedBefore: (spiffeId, before, event) => audited((tx) => revokeSvidsIssuedBefore(tx, spiffeId, before), (done) => done, event),
  };
}
