import { LIMITS, MayflyError, actorOf, sanitizeText, validateResource, type Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import type { RegistryServiceServer } from '@mayfly/proto';
import type { RegistryPorts, ResourceCheck } from '../domain/ports.js';
import { readResourceRecord, toResourceMessage } from '../domain/resource-record.js';
import { changeRecord } from './registry-change.js';

/**
 * RegistryService's resources: systems whose grants carry a login made for the grant. A resource
 * is checked by connecting to it before it is stored; its admin credential stays in its file.
 */
export function resourcesApi({ registry, check, log }: { registry: RegistryPorts; check: ResourceCheck; log: Logger }): Pick<RegistryServiceServer, 'putResource' | 'getResource' | 'listResources' | 'removeResource'> {
  return {
    putResource: unary(log, 'mayfly.v1.RegistryService/PutResource', async (request, call) => {
      const input = readResourceRecord(request.resource);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      await check(input);
      const actor = actorOf(call.caller);
      const { row, created } = await registry.change(async (store) => {
        const put = await store.putResource({ ...input, updatedBy: actor });
        const detail = { name: input.name, kind: input.kind, host: input.host, port: input.port, database: input.database, adminCredentialFile: input.adminCredentialFile, actions: input.actions, connectionLimit: input.connectionLimit, ...(reason ? { reason } : {}) };
        return { result: put, event: changeRecord(put.created ? 'resource.created' : 'resource.updated', actor, detail) };
      });
      log.info({ resource: row.name, kind: row.kind, actor, created }, created ? 'resource created' : 'resource updated');
      return { resource: toResourceMessage(row), created };
    }),

    getResource: unary(log, 'mayfly.v1.RegistryService/GetResource', async (request) => {
      validateResource('name', request.name);
      const row = await registry.records.findResource(request.name);
      if (!row) throw new MayflyError('ERR_NOT_FOUND', `no resource ${request.name}: a name without an entry is a JWT audience (mayfly resources put to give it logins)`);
      return { resource: toResourceMessage(row) };
    }),

    listResources: unary(log, 'mayfly.v1.RegistryService/ListResources', async () => ({ resources: (await registry.records.listResources()).map(toResourceMessage) })),

    removeResource: unary(log, 'mayfly.v1.RegistryService/RemoveResource', async (request, call) => {
      validateResource('name', request.name);
      const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
      await registry.change(async (store) => {
        const live = await store.liveGrantsOn(request.name);
        if (live > 0) throw new MayflyError('ERR_RESOURCE_IN_USE', `resource ${request.name} has ${live} live grant(s) holding logins: revoke them first (mayfly revoke …)`);
        const removed = await store.deleteResource(request.name);
        if (!removed) throw new MayflyError('ERR_NOT_FOUND', `no resource ${request.name}`);
        return { result: undefined, event: changeRecord('resource.removed', actorOf(call.caller), { name: removed.name, kind: removed.kind, ...(reason ? { reason } : {}) }) };
      });
      return {};
    }),
  };
}
