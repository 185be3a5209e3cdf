import { LIMITS, MayflyError, sanitizeText, validateSpiffeId, type Logger } from '@mayfly/core';
import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import { activeGrantsOf, createWorkload, findWorkload, listWorkloads, replaceWorkload, toGrantMessage, toWorkloadMessage, type Database, type Kysely, type WorkloadRow } from '@mayfly/db';
import { unary } from '@mayfly/grpc';
import type { AuditEvent, RegisteredWorkload, RegistryServiceServer } from '@mayfly/proto';
import { changedFields, grantsBeyond, readWorkloadRecord } from '../domain/workload-record.js';

export interface RegistryApiDeps {
  readonly db: Kysely<Database>;
  readonly audit: AuditTrail;
  /** MAYFLY_WORKLOAD_TRUST_DOMAINS: the trust domains workloads may be registered in (empty: any). */
  readonly trustDomains: readonly string[];
  readonly log: Logger;
}

const SOURCE = 'attestation';

function registered(row: WorkloadRow): RegisteredWorkload {
  return { workload: toWorkloadMessage(row), disabledAt: row.disabled_at ?? undefined, createdAt: row.created_at };
}

const asInput = (row: WorkloadRow) => ({
  spiffeId: row.spiffe_id,
  ownerTeam: row.owner_team,
  ownerContact: row.owner_contact,
  environment: row.environment,
  riskTier: row.risk_tier,
  shared: row.shared,
  ceiling: row.ceiling,
});

/**
 * RegistryService: operators register workloads and change them, each change committed with its
 * audit record (the operator's verified identity, why, and what changed), in one transaction.
 */
export function registryApi({ db, audit, trustDomains, log }: RegistryApiDeps): RegistryServiceServer {
  const actorOf = (caller: string | undefined) => caller ?? 'unverified-caller (insecure development mode)';
  const record = (kind: string, actor: string, detail: Record<string, unknown>): AuditEvent => auditEvent(SOURCE, { kind, actor, outcome: 'success', detail });
  return {
    createWorkload: unary(log, 'mayfly.v1.RegistryService/CreateWorkload', async (request, call) => {
      const input = readWorkloadRecord(request.workload, trustDomains);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const event = record('workload.created', actorOf(call.caller), { ...input, ceiling: input.ceiling.map((entry) => `${entry.resource}=${entry.actions.join(',')}`), ...(reason ? { reason } : {}) });
      const created = await createWorkload(db, input, (tx) => audit.enqueue(tx, [event]));
      if (!created) throw new MayflyError('ERR_ALREADY_EXISTS', `workload ${input.spiffeId} is registered already: change it with UpdateWorkload (mayfly workloads update)`);
      void audit.deliver([event]).catch(() => undefined);
      log.info({ spiffeId: input.spiffeId, actor: actorOf(call.caller) }, 'workload registered');
      return { workload: registered(created) };
    }),

    updateWorkload: unary(log, 'mayfly.v1.RegistryService/UpdateWorkload', async (request, call) => {
      const input = readWorkloadRecord(request.workload, trustDomains);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      let event: AuditEvent | undefined;
      const replaced = await replaceWorkload(db, input, async (tx, before) => {
        event = record('workload.updated', actorOf(call.caller), { spiffeId: input.spiffeId, changed: changedFields(asInput(before), input), ...(reason ? { reason } : {}) });
        await audit.enqueue(tx, [event]);
      });
      if (!replaced) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${input.spiffeId} is registered: register it with CreateWorkload (mayfly workloads create)`);
      if (event) void audit.deliver([event]).catch(() => undefined);
      // The new ceiling governs every grant from now on; grants already issued beyond it are
      // named, for the operator to revoke (attestation does not revoke: that is the revocation service's).
      const exceeding = grantsBeyond(input.ceiling, await activeGrantsOf(db, input.spiffeId, 1_000));
      log.info({ spiffeId: input.spiffeId, actor: actorOf(call.caller), exceeding: exceeding.length }, 'workload updated');
      return { workload: registered(replaced.after), exceedingGrants: exceeding.map((grant) => toGrantMessage(grant)) };
    }),

    getWorkload: unary(log, 'mayfly.v1.RegistryService/GetWorkload', async (request) => {
      validateSpiffeId('spiffe_id', request.spiffeId);
      const row = await findWorkload(db, request.spiffeId);
      if (!row) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${request.spiffeId} is registered`);
      return { workload: registered(row) };
    }),

    listWorkloads: unary(log, 'mayfly.v1.RegistryService/ListWorkloads', async (request) => {
      if (request.prefix.length > LIMITS.spiffeIdMaxLength) throw new MayflyError('ERR_INVALID_ARGUMENT', 'prefix: too long', { field: 'prefix' });
      const rows = await listWorkloads(db, { prefix: request.prefix, limit: Math.min(request.limit || 100, 1_000) });
      return { workloads: rows.map(registered) };
    }),
  };
}
