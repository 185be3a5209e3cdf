import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createDatabase, migrateToLatest, upsertWorkload, type Database, type GrantRecord, type Kysely } from '@mayfly/db';
import { newGrantRecord } from '../../services/issuance/src/domain/grant-record.js';

/** The machine's PostgreSQL, as integration tests reach it (trust auth, user postgres). */
export const SERVER = { host: '127.0.0.1', port: 5432 } as const;
export const SCRATCH_WORKLOAD = 'spiffe://example.org/ci/builder';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  readonly db: Kysely<Database>;
  /** A plain connection to it, apart from the pool (to observe, or to LISTEN). */
  connect(): Promise<pg.Client>;
  drop(): Promise<void>;
}

/**
 * A migrated database of its own for one integration suite, with one registered workload
 * (SCRATCH_WORKLOAD, allowed `read` on each of `resources`), dropped by drop().
 */
export async function scratchDatabase(prefix: string, resources: readonly string[]): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await asPostgres(`CREATE DATABASE ${name}`);
  const url = `postgres://postgres@${SERVER.host}:${SERVER.port}/${name}`;
  const db = createDatabase({ url, maxConnections: 4 });
  await migrateToLatest(db, url, false);
  await upsertWorkload(db, {
    spiffeId: SCRATCH_WORKLOAD,
    ownerTeam: 'ci',
    ownerContact: 'ci@example.org',
    environment: 'dev',
    riskTier: 'low',
    ceiling: resources.map((resource) => ({ resource, actions: ['read'] })),
  });
  return {
    name,
    url,
    db,
    connect: async () => {
      const client = new pg.Client({ ...SERVER, user: 'postgres', database: name });
      await client.connect();
      return client;
    },
    drop: async () => {
      await db.destroy();
      await asPostgres(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** An active grant record of SCRATCH_WORKLOAD on `resource`, five minutes long, not yet stored. */
export function scratchGrant(resource: string, overrides: Partial<GrantRecord> = {}): GrantRecord {
  const grant = newGrantRecord({
    spiffeId: SCRATCH_WORKLOAD,
    task: { id: `task-${randomUUID()}`, kind: 'ci-job', reference: '', deadline: undefined },
    resource,
    decision: { grantedActions: ['read'], policyIds: ['p'], policyVersion: 'v' },
    status: 'active',
    issuedAt: new Date(),
    expiresAt: new Date(Date.now() + 300_000),
    renewableUntil: new Date(Date.now() + 300_000),
    tokenLifetimeSeconds: 300,
    heartbeatIntervalSeconds: null,
  });
  return { ...grant, ...overrides };
}

async function asPostgres(sql: string): Promise<void> {
  const client = new pg.Client({ ...SERVER, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
