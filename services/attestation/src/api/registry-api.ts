import { LIMITS, MayflyError, actorOf, sanitizeText, validateSpiffeId, type Logger } from '@mayfly/core';
import { toGrantMessage, toWorkloadMessage, type WorkloadRecord } from '@mayfly/model';
import { unary } from '@mayfly/grpc';
import type { RegisteredWorkload, RegistryServiceServer } from '@mayfly/proto';
import type { RegistryPorts, ResourceCheck } from '../domain/ports.js';
import { readBinding, readIssuerRecord, toIssuerMessage } from '../domain/issuer-record.js';
import { changedFields, grantsBeyond, readWorkloadRecord } from '../domain/workload-record.js';
import { bindingRulesApi } from './binding-rules-api.js';
import { joinTokensApi } from './join-tokens-api.js';
import { resourcesApi } from './resources-api.js';
import { changeRecord } from './registry-change.js';

export interface RegistryApiDeps {
  readonly registry: RegistryPorts;
  /** Connects to a resource to check it before it is stored. */
  readonly checkResource: ResourceCheck;
  /** MAYFLY_WORKLOAD_TRUST_DOMAINS: the trust domains workloads may be registered in (empty: any). */
  readonly trustDomains: readonly string[];
  readonly log: Logger;
}

function registered(row: WorkloadRecord): RegisteredWorkload {
  return { workload: toWorkloadMessage(row), disabledAt: row.disabled_at ?? undefined, createdAt: row.created_at };
}

const asInput = (row: WorkloadRecord) => ({
  spiffeId: row.spiffe_id,
  ownerTeam: row.owner_team,
  ownerContact: row.owner_contact,
  environment: row.environment,
  riskTier: row.risk_tier,
  shared: row.shared,
  ceiling: row.ceiling,
  breakGlassAllowed: row.break_glass_allowed,
});

/**
 * RegistryService: operators register workloads and change them, each change committed with its
 * audit record (the operator's verified identity, why, and what changed), in one transaction.
 */
export function registryApi({ registry, checkResource, trustDomains, log }: RegistryApiDeps): RegistryServiceServer {
  const record = changeRecord;
  const { records } = registry;
  return {
    ...bindingRulesApi({ registry, log }),
    ...joinTokensApi({ registry, log }),
    ...resourcesApi({ registry, check: checkResource, log }),
    createWorkload: unary(log, 'mayfly.v1.RegistryService/CreateWorkload', async (request, call) => {
      const input = readWorkloadRecord(request.workload, trustDomains);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const event = record('workload.created', actorOf(call.caller), { ...input, ceiling: input.ceiling.map((entry) => `${entry.resource}=${entry.actions.join(',')}`), ...(reason ? { reason } : {}) });
      const created = await registry.createWorkload(input, event);
      if (!created) throw new MayflyError('ERR_ALREADY_EXISTS', `workload ${input.spiffeId} is registered already: change it with UpdateWorkload (mayfly workloads update)`);
      log.info({ spiffeId: input.spiffeId, actor: actorOf(call.caller) }, 'workload registered');
      return { workload: registered(created) };
    }),

    updateWorkload: unary(log, 'mayfly.v1.RegistryService/UpdateWorkload', async (request, call) => {
      const input = readWorkloadRecord(request.workload, trustDomains);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const replaced = await registry.replaceWorkload(input, (before) =>
        record('workload.updated', actorOf(call.caller), { spiffeId: input.spiffeId, changed: changedFields(asInput(before), input), ...(reason ? { reason } : {}) }),
      );
      if (!replaced) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${input.spiffeId} is registered: register it with CreateWorkload (mayfly workloads create)`);
      // The new ceiling governs every grant from now on; grants already issued beyond it are
      // named, for the operator to revoke (attestation does not revoke: that is the revocation service's).
      const exceeding = grantsBeyond(input.ceiling, await records.activeGrantsOf(input.spiffeId, 1_000));
      log.info({ spiffeId: input.spiffeId, actor: actorOf(call.caller), exceeding: exceeding.length }, 'workload updated');
      return { workload: registered(replaced.after), exceedingGrants: exceeding.map((grant) => toGrantMessage(grant)) };
    }),

    getWorkload: unary(log, 'mayfly.v1.RegistryService/GetWorkload', async (request) => {
      validateSpiffeId('spiffe_id', request.spiffeId);
      const row = await records.findWorkload(request.spiffeId);
      if (!row) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${request.spiffeId} is registered`);
      return { workload: registered(row) };
    }),

    putTrustedIssuer: unary(log, 'mayfly.v1.RegistryService/PutTrustedIssuer', async (request, call) => {
      const input = readIssuerRecord(request.issuer);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const { row, created } = await registry.change(async (store) => {
        const put = await store.putTrustedIssuer(input);
        const detail = { issuer: input.issuer, kind: input.kind, audiences: input.audiences, keys: input.jwksUri ?? 'inline key set', algorithms: input.algorithms, replayPolicy: input.replayPolicy ?? 'default', ...(reason ? { reason } : {}) };
        return { result: put, event: record(put.created ? 'issuer.trusted' : 'issuer.updated', actorOf(call.caller), detail) };
      });
      log.info({ issuer: input.issuer, created, actor: actorOf(call.caller) }, created ? 'issuer trusted' : 'issuer updated');
      return { issuer: toIssuerMessage(row), created };
    }),

    listTrustedIssuers: unary(log, 'mayfly.v1.RegistryService/ListTrustedIssuers', async () => ({ issuers: (await records.listTrustedIssuers()).map(toIssuerMessage) })),

    removeTrustedIssuer: unary(log, 'mayfly.v1.RegistryService/RemoveTrustedIssuer', async (request, call) => {
      if (request.issuer === '' || request.issuer.length > 512) throw new MayflyError('ERR_INVALID_ARGUMENT', 'issuer: is required', { field: 'issuer' });
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const removed = await registry.change(async (store) => {
        const bindings = await store.removeTrustedIssuer(request.issuer);
        if (bindings === undefined) throw new MayflyError('ERR_NOT_FOUND', `issuer ${request.issuer} is not trusted`);
        return { result: bindings, event: record('issuer.removed', actorOf(call.caller), { issuer: request.issuer, bindingsRemoved: bindings, ...(reason ? { reason } : {}) }) };
      });
      return { bindingsRemoved: removed };
    }),

    putBinding: unary(log, 'mayfly.v1.RegistryService/PutBinding', async (request, call) => {
      const binding = readBinding(request.binding);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      const replaced = await registry.change(async (store) => {
        if (!(await store.findTrustedIssuer(binding.issuer))) throw new MayflyError('ERR_NOT_FOUND', `issuer ${binding.issuer} is not trusted: trust it first (mayfly issuers put)`);
        if (!(await store.findWorkload(binding.spiffeId))) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${binding.spiffeId} is registered: register it first (mayfly workloads create)`);
        const before = await store.putBinding(binding);
        return { result: before, event: record('binding.put', actorOf(call.caller), { ...binding, ...(before && before !== binding.spiffeId ? { replaced: before } : {}), ...(reason ? { reason } : {}) }) };
      });
      return { binding: { issuer: binding.issuer, subject: binding.subject, spiffeId: binding.spiffeId }, replacedSpiffeId: replaced && replaced !== binding.spiffeId ? replaced : '' };
    }),

    removeBinding: unary(log, 'mayfly.v1.RegistryService/RemoveBinding', async (request, call) => {
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      await registry.change(async (store) => {
        if (!(await store.removeBinding(request.issuer, request.subject))) throw new MayflyError('ERR_NOT_FOUND', `no binding of subject "${request.subject}" of issuer ${request.issuer}`);
        return { result: undefined, event: record('binding.removed', actorOf(call.caller), { issuer: request.issuer, subject: request.subject, ...(reason ? { reason } : {}) }) };
      });
      return {};
    }),

    listBindings: unary(log, 'mayfly.v1.RegistryService/ListBindings', async (request) => {
      if (request.spiffeId) validateSpiffeId('spiffe_id', request.spiffeId);
      return { bindings: (await records.listBindings(request.spiffeId || undefined)).map((row) => ({ issuer: row.issuer, subject: row.subject, spiffeId: row.spiffe_id })) };
    }),

    listWorkloads: unary(log, 'mayfly.v1.RegistryService/ListWorkloads', async (request) => {
      if (request.prefix.length > LIMITS.spiffeIdMaxLength) throw new MayflyError('ERR_INVALID_ARGUMENT', 'prefix: too long', { field: 'prefix' });
      const rows = await records.listWorkloads({ prefix: request.prefix, limit: Math.min(request.limit || 100, 1_000) });
      return { workloads: rows.map(registered) };
    }),
  };
}
