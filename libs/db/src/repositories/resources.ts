import type { Kysely } from 'kysely';
import type { Database, ResourceRow } from '../schema.js';

export interface ResourceInput {
  readonly name: string;
  readonly kind: ResourceRow['kind'];
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly adminCredentialFile: string;
  readonly actions: Readonly<Record<string, readonly string[]>>;
  readonly connectionLimit: number;
  readonly updatedBy: string;
}

/** Creates or replaces a resource; says whether it was new. */
export async function putResource(db: Kysely<Database>, input: ResourceInput): Promise<{ row: ResourceRow; created: boolean }> {
  const existed = await findResource(db, input.name);
  const values = {
    name: input.name,
    kind: input.kind,
    host: input.host,
    port: input.port,
    database: input.database,
    admin_credential_file: input.adminCredentialFile,
    actions: JSON.stringify(input.actions),
    connection_limit: input.connectionLimit,
    updated_by: input.updatedBy,
  };
  const row = await db
    .insertInto('resources')
    .values(values)
    .onConflict((conflict) => conflict.column('name').doUpdateSet({ ...values, updated_at: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, created: existed === undefined };
}

export async function findResource(db: Kysely<Database>, name: string): Promise<ResourceRow | undefined> {
  return db.selectFrom('resources').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function listResources(db: Kysely<Database>): Promise<ResourceRow[]> {
  return db.selectFrom('resources').selectAll().orderBy('name').execute();
}

export async function deleteResource(db: Kysely<Database>, name: string): Promise<ResourceRow | undefined> {
  return db.deleteFrom('resources').where('name', '=', name).returningAll().executeTakeFirst();
}

/** How many grants on a resource are active or waiting for approval. */
export async function countLiveGrantsOn(db: Kysely<Database>, resource: string): Promise<number> {
  const row = await db
    .selectFrom('grants')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('resource', '=', resource)
    .where('status', 'in', ['active', 'pending_approval'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
