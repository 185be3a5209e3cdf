import { findApproval, findGrant, findWorkload, listBreakGlassGrants, listGrants, listPendingApprovals, type Database, type Kysely } from '@mayfly/db';
import type { GrantReads } from '../domain/ports.js';

/** ApprovalService's reads over PostgreSQL. */
export function postgresGrantReads(db: Kysely<Database>): GrantReads {
  return {
    grant: (grantId) => findGrant(db, grantId),
    grants: (filter) => listGrants(db, filter),
    pendingApprovals: (limit) => listPendingApprovals(db, limit),
    breakGlassGrants: (filter) => listBreakGlassGrants(db, filter),
    approval: (grantId) => findApproval(db, grantId),
    workload: (spiffeId) => findWorkload(db, spiffeId),
  };
}
