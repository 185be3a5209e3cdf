import { callUnary } from '@mayfly/grpc';
import { PutResourceRequest, ResourceKind, type Resource } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { withRegistry } from './workloads.js';
import { PORT, oneOf, requireFlags, wholeNumber } from '../flags.js';

const KINDS: Readonly<Record<string, ResourceKind>> = {
  postgresql: ResourceKind.RESOURCE_KIND_POSTGRESQL,
  mariadb: ResourceKind.RESOURCE_KIND_MARIADB,
  redis: ResourceKind.RESOURCE_KIND_REDIS,
};
const kindName = (kind: ResourceKind) => Object.entries(KINDS).find(([, value]) => value === kind)?.[0] ?? 'unknown';

const resourceRow = (resource: Resource): Record<string, string> => ({
  name: resource.name,
  kind: kindName(resource.kind),
  where: `${resource.host}:${resource.port}${resource.database ? `/${resource.database}` : ''}`,
  actions: Object.entries(resource.actions).map(([action, mapping]) => `${action}=${mapping.grants.join(',')}`).join('; '),
  adminCredentialFile: resource.adminCredentialFile,
  updated: `${resource.updatedAt?.toISOString() ?? ''} by ${resource.updatedBy}`,
});

/** ACTION=GRANT[,GRANT] → the action map. */
function actionMap(entries: readonly string[]): Resource['actions'] {
  const map: Resource['actions'] = {};
  for (const entry of entries) {
    const [action, grants] = [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)];
    if (!entry.includes('=') || !action || !grants) throw new Error(`--map ${JSON.stringify(entry)}: write ACTION=GRANT[,GRANT], e.g. read=orders_reader`);
    map[action] = { grants: grants.split(',').map((grant) => grant.trim()).filter(Boolean) };
  }
  return map;
}

/** `mayfly resources put <name> --kind K --host H --port P [--database D] --admin-credential-file F --map A=G[,G] …`. */
export async function put(context: CommandContext): Promise<void> {
  const name = context.args[0];
  const usage = 'usage: mayfly resources put <name> --kind postgresql|mariadb|redis --host H --port P [--database D] --admin-credential-file FILE --map ACTION=GRANT[,GRANT] … [--connection-limit N] [--reason T]';
  if (!name) throw new Error(usage);
  const { flags } = context;
  requireFlags({ '--kind': flags.kind, '--host': flags.host, '--port': flags.port, '--admin-credential-file': flags.adminCredentialFile, '--map': flags.map }, usage.replace(/^usage: /, ''));
  const kind = oneOf(KINDS, flags.kind!, '--kind');
  const port = wholeNumber(flags.port, '--port', PORT)!;
  const connectionLimit = wholeNumber(flags.connectionLimit, '--connection-limit', { min: 1, max: 10_000 }, 0);
  const request = PutResourceRequest.fromPartial({
    resource: {
      name,
      kind,
      host: flags.host,
      port,
      database: flags.database ?? '',
      adminCredentialFile: flags.adminCredentialFile,
      actions: actionMap(flags.map),
      connectionLimit,
    },
    reason: flags.reason ?? '',
  });
  const response = await withRegistry(context, (client) => callUnary(client, client.putResource, request, { target: 'attestation' }));
  context.out.table([resourceRow(response.resource!)]);
  context.out.say(response.created ? `resource ${name} created` : `resource ${name} updated`);
  context.out.document(response);
}

export async function list(context: CommandContext): Promise<void> {
  const response = await withRegistry(context, (client) => callUnary(client, client.listResources, {}, { target: 'attestation' }));
  context.out.table(response.resources.map(resourceRow));
  context.out.document(response.resources);
}

export async function show(context: CommandContext): Promise<void> {
  const name = context.args[0];
  if (!name) throw new Error('usage: mayfly resources show <name>');
  const response = await withRegistry(context, (client) => callUnary(client, client.getResource, { name }, { target: 'attestation' }));
  context.out.table([resourceRow(response.resource!)]);
  context.out.document(response.resource);
}

export async function remove(context: CommandContext): Promise<void> {
  const name = context.args[0];
  if (!name) throw new Error('usage: mayfly resources remove <name> [--reason T]');
  await withRegistry(context, (client) => callUnary(client, client.removeResource, { name, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ name, resource: 'removed' }]);
  context.out.document({ name, removed: true });
}
