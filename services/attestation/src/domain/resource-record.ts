import { invalidArgument, validateActions, validateResource } from '@mayfly/core';
import type { ResourceRecord } from '@mayfly/model';
import { ResourceKind, type Resource } from '@mayfly/proto';

/** A resource as it will be stored: checked field by field, each error naming its field. */
export interface ResourceInput {
  readonly name: string;
  readonly kind: ResourceRecord['kind'];
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly adminCredentialFile: string;
  readonly actions: Readonly<Record<string, readonly string[]>>;
  readonly connectionLimit: number;
}

const KINDS: ReadonlyMap<ResourceKind, ResourceRecord['kind']> = new Map([
  [ResourceKind.RESOURCE_KIND_POSTGRESQL, 'postgresql'],
  [ResourceKind.RESOURCE_KIND_MARIADB, 'mariadb'],
  [ResourceKind.RESOURCE_KIND_REDIS, 'redis'],
]);
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
/** SQL identifiers Mayfly maps actions to: plain names (they are quoted anyway). */
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
const MAX_GRANTS_PER_ACTION = 32;

export function readResourceRecord(resource: Resource | undefined): ResourceInput {
  if (!resource) throw invalidArgument('resource', 'is required');
  validateResource('resource.name', resource.name);
  const kind = KINDS.get(resource.kind);
  if (!kind) throw invalidArgument('resource.kind', 'must be postgresql, mariadb or redis (a resource with no entry is a JWT audience)');
  if (!HOST.test(resource.host)) throw invalidArgument('resource.host', 'must be a host name or an IP address');
  if (resource.port < 1 || resource.port > 65535) throw invalidArgument('resource.port', 'must be from 1 to 65535');
  if (kind !== 'redis' && !SQL_NAME.test(resource.database)) throw invalidArgument('resource.database', 'must name the database workloads connect to (letters, digits, _ $ -)');
  if (kind === 'redis' && resource.database !== '') throw invalidArgument('resource.database', 'must be empty for Redis');
  if (!resource.adminCredentialFile.startsWith('/') || resource.adminCredentialFile.length > 4096 || resource.adminCredentialFile.includes('\0')) {
    throw invalidArgument('resource.admin_credential_file', 'must be the absolute path of the file holding the admin connection URL (the credential itself is never sent)');
  }
  const actions = Object.entries(resource.actions).map(([action, mapping]) => [action, mapping.grants] as const);
  if (actions.length === 0) throw invalidArgument('resource.actions', 'must map at least one action');
  validateActions('resource.actions', actions.map(([action]) => action));
  for (const [action, grants] of actions) {
    if (grants.length === 0 || grants.length > MAX_GRANTS_PER_ACTION) throw invalidArgument('resource.actions', `"${action}" must map to 1 to ${MAX_GRANTS_PER_ACTION} ${kind === 'redis' ? 'ACL rules' : 'roles'}`);
    if (kind !== 'redis') {
      const bad = grants.find((role) => !SQL_NAME.test(role));
      if (bad !== undefined) throw invalidArgument('resource.actions', `"${action}" maps to ${JSON.stringify(bad)}, which is not a role name`);
    }
  }
  const connectionLimit = resource.connectionLimit || 10;
  if (connectionLimit > 10_000) throw invalidArgument('resource.connection_limit', 'must be at most 10000');
  return {
    name: resource.name,
    kind,
    host: resource.host,
    port: resource.port,
    database: resource.database,
    adminCredentialFile: resource.adminCredentialFile,
    actions: Object.fromEntries(actions.map(([action, grants]) => [action, [...grants]])),
    connectionLimit,
  };
}

export function toResourceMessage(row: ResourceRecord): Resource {
  const kind = [...KINDS].find(([, name]) => name === row.kind)![0];
  return {
    name: row.name,
    kind,
    host: row.host,
    port: row.port,
    database: row.database,
    adminCredentialFile: row.admin_credential_file,
    actions: Object.fromEntries(Object.entries(row.actions).map(([action, grants]) => [action, { grants }])),
    connectionLimit: row.connection_limit,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
