import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DEMO_ORDERS_ADMIN_FILE, DEMO_ORDERS_DB as DEMO_ORDERS_DB_SETTING, EnvReader } from '@mayfly/config';
import { callUnary } from '@mayfly/grpc';
import { ResourceKind, type RegistryServiceClient } from '@mayfly/proto';

/**
 * The demo's database with dynamic logins (issue 22): a grant on `pg:orders-live` carries a
 * PostgreSQL login made for it, and revoking the grant cuts the session that login has open.
 * Compose runs it as its own container (deploy/compose, orders-db); `npm start` makes it as a
 * database on the mesh's own PostgreSQL.
 */
export const DEMO_ORDERS_DB = {
  resource: 'pg:orders-live',
  database: 'mayfly_demo_orders',
  /** The NOLOGIN group role a grant's "read" maps to: SELECT on the orders table, nothing more. */
  reader: 'demo_orders_reader',
} as const;

/** Where `npm start` keeps the demo database's admin URL (0600); the registry keeps only this path. */
export const demoOrdersAdminFile = (stateDir: string): string => join(stateDir, 'demo-orders-admin-url');

/** Where the demo's database is, for the seed: from MAYFLY_DEMO_ORDERS_* (compose) or what `npm start` made. */
export interface DemoOrdersDb {
  /** The admin credential file's path, as the services that read it see it. */
  readonly adminCredentialFile: string;
  /** Where workloads connect: postgres://host:port/database (no credentials). */
  readonly address: URL;
}

export function findDemoOrdersDb(stateDir: string, env: NodeJS.ProcessEnv = process.env): DemoOrdersDb | undefined {
  const reader = new EnvReader(env, 'mayfly CLI');
  const file = reader.read(DEMO_ORDERS_ADMIN_FILE);
  const address = reader.read(DEMO_ORDERS_DB_SETTING);
  if (file && address) return { adminCredentialFile: file, address: new URL(address) };
  const local = demoOrdersAdminFile(stateDir);
  if (!existsSync(local)) return undefined;
  const url = new URL(readFileSync(local, 'utf8').trim());
  url.username = '';
  url.password = '';
  return { adminCredentialFile: local, address: url };
}

/**
 * Makes the demo database on the mesh's PostgreSQL (idempotent): an orders table and the reader
 * role; writes the admin URL to the state directory, readable by this user only.
 */
export async function prepareDemoOrdersDb(ownerUrl: string, stateDir: string): Promise<void> {
  const server = new URL(ownerUrl);
  const asOwner = async (database: string, statements: readonly string[]): Promise<void> => {
    const url = new URL(server);
    url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const exists = new pg.Client({ connectionString: server.toString() });
  await exists.connect();
  let present: boolean;
  try {
    present = (await exists.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_ORDERS_DB.database])).rowCount === 1;
    const role = (await exists.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [DEMO_ORDERS_DB.reader])).rowCount === 1;
    if (!role) await exists.query(`CREATE ROLE ${DEMO_ORDERS_DB.reader} NOLOGIN`);
  } finally {
    await exists.end();
  }
  if (!present) await asOwner('postgres', [`CREATE DATABASE ${DEMO_ORDERS_DB.database}`]);
  await asOwner(DEMO_ORDERS_DB.database, [
    'CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL)',
    "INSERT INTO orders VALUES (1, 'ada', 42.00), (2, 'grace', 17.50), (3, 'linus', 99.90) ON CONFLICT DO NOTHING",
    `GRANT SELECT ON orders TO ${DEMO_ORDERS_DB.reader}`,
  ]);
  const admin = new URL(server);
  admin.pathname = `/${DEMO_ORDERS_DB.database}`;
  writeFileSync(demoOrdersAdminFile(stateDir), `${admin.toString()}\n`, { mode: 0o600 });
}

/** Registers the demo database as a resource with dynamic logins ("read" → the reader role). */
export async function registerDemoOrdersDb(registry: RegistryServiceClient, where: DemoOrdersDb): Promise<void> {
  await callUnary(registry, registry.putResource, {
    resource: {
      name: DEMO_ORDERS_DB.resource,
      kind: ResourceKind.RESOURCE_KIND_POSTGRESQL,
      host: where.address.hostname,
      port: Number(where.address.port || 5432),
      database: decodeURIComponent(where.address.pathname.slice(1)),
      adminCredentialFile: where.adminCredentialFile,
      actions: { read: { grants: [DEMO_ORDERS_DB.reader] } },
      connectionLimit: 2,
      updatedBy: '',
      updatedAt: undefined,
    },
    reason: 'demo seed: a database whose grants carry their own login',
  }, { target: 'attestation' });
}
