import { auditedTransaction, type AuditTrail } from '@mayfly/audit-trail';
import {
  activeGrantsOf,
  countLiveGrantsOn,
  deleteResource,
  findResource,
  listResources,
  putResource,
  createWorkload,
  deleteBindingRule,
  deleteUnusedJoinToken,
  findTrustedIssuer,
  findWorkload,
  insertBindingRule,
  insertJoinToken,
  listBindingRules,
  listBindings,
  listJoinTokens,
  listTrustedIssuers,
  listWorkloads,
  putBinding,
  putTrustedIssuer,
  removeBinding,
  removeTrustedIssuer,
  replaceWorkload,
  type Database,
  type Kysely,
} from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';
import type { RegistryPorts, RegistryStore } from '../domain/ports.js';

/** The registry's records over a database handle: the pool, or one transaction. */
function storeOver(db: Kysely<Database>): RegistryStore {
  return {
    findTrustedIssuer: (issuer) => findTrustedIssuer(db, issuer),
    listTrustedIssuers: () => listTrustedIssuers(db),
    putTrustedIssuer: (input) => putTrustedIssuer(db, input),
    removeTrustedIssuer: (issuer) => removeTrustedIssuer(db, issuer),
    findWorkload: (spiffeId) => findWorkload(db, spiffeId),
    listWorkloads: (filter) => listWorkloads(db, filter),
    activeGrantsOf: (spiffeId, limit) => activeGrantsOf(db, spiffeId, limit),
    listBindings: (spiffeId) => listBindings(db, spiffeId),
    putBinding: (binding) => putBinding(db, binding),
    removeBinding: (issuer, subject) => removeBinding(db, issuer, subject),
    listBindingRules: (issuer) => listBindingRules(db, issuer),
    insertBindingRule: (rule) => insertBindingRule(db, rule),
    deleteBindingRule: (id) => deleteBindingRule(db, id),
    listJoinTokens: (spiffeId) => listJoinTokens(db, spiffeId),
    insertJoinToken: (token) => insertJoinToken(db, token),
    deleteUnusedJoinToken: (id) => deleteUnusedJoinToken(db, id),
    findResource: (name) => findResource(db, name),
    listResources: () => listResources(db),
    putResource: (input) => putResource(db, input),
    deleteResource: (name) => deleteResource(db, name),
    liveGrantsOn: (resource) => countLiveGrantsOn(db, resource),
  };
}

/** RegistryService's ports over PostgreSQL, each change with its audit event in the same transaction. */
export function postgresRegistryPorts(db: Kysely<Database>, audit: AuditTrail): RegistryPorts {
  const deliver = (event: AuditEvent) => void audit.deliver([event]).catch(() => undefined);
  return {
    records: storeOver(db),
    async change(work) {
      const done = await auditedTransaction(db, audit, async (tx) => {
        const { result, event } = await work(storeOver(tx));
        return { result, events: [event] };
      });
      return done.result;
    },
    async createWorkload(input, event) {
      const created = await createWorkload(db, input, (tx) => audit.enqueue(tx, [event]));
      if (created) deliver(event);
      return created;
    },
    async replaceWorkload(input, eventFor) {
      let event: AuditEvent | undefined;
      const replaced = await replaceWorkload(db, input, async (tx, before) => {
        event = eventFor(before);
        await audit.enqueue(tx, [event]);
      });
      if (event) deliver(event);
      return replaced;
    },
  };
}
