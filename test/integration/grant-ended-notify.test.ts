import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_ENDED_CHANNEL, createDatabase, endGrant, insertGrant, migrateToLatest, putResource, upsertWorkload, type Database, type Kysely } from '@mayfly/db';
import { newGrantRecord } from '../../services/issuance/src/domain/grant-record.js';

/**
 * The grant-ended notification against real PostgreSQL (migration 027, issue 24): a grant on a
 * registered resource (one that can carry a login) is announced when it ends; a grant on any
 * other resource ends silently — before 027 every ended grant cost a NOTIFY and, in issuance, a
 * registry read.
 */
const SERVER = { host: '127.0.0.1', port: 5432 };
const database = `mayfly_ended_notify_${randomBytes(4).toString('hex')}`;
const SPIFFE_ID = 'spiffe://example.org/ci/builder';
let db: Kysely<Database>;
let listener: pg.Client;
const heard: string[] = [];

async function asOwner(sql: string): Promise<void> {
  const client = new pg.Client({ ...SERVER, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function activeGrantOn(resource: string): Promise<string> {
  const grant = newGrantRecord({
    spiffeId: SPIFFE_ID,
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
  await insertGrant(db, grant);
  return grant.id;
}

beforeAll(async () => {
  await asOwner(`CREATE DATABASE ${database}`);
  const url = `postgres://postgres@${SERVER.host}:${SERVER.port}/${database}`;
  db = createDatabase({ url, maxConnections: 2 });
  await migrateToLatest(db, url, false);
  await upsertWorkload(db, {
    spiffeId: SPIFFE_ID,
    ownerTeam: 'ci',
    ownerContact: 'ci@example.org',
    environment: 'dev',
    riskTier: 'low',
    ceiling: [{ resource: 'pg:orders-db', actions: ['read'] }, { resource: 'svc:orders', actions: ['read'] }],
  });
  await putResource(db, { name: 'pg:orders-db', kind: 'postgresql', host: '127.0.0.1', port: 5432, database: 'orders', adminCredentialFile: '/dev/null', actions: { read: ['reader'] }, connectionLimit: 2, updatedBy: 'test' });
  listener = new pg.Client({ ...SERVER, user: 'postgres', database });
  await listener.connect();
  listener.on('notification', (message) => heard.push(message.payload ?? ''));
  await listener.query(`LISTEN ${GRANT_ENDED_CHANNEL}`);
}, 60_000);

afterAll(async () => {
  await listener?.end();
  await db?.destroy();
  await asOwner(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

describe('grant-ended notification', () => {
  it('announces the end of a grant on a resource with logins, and not of a plain token grant', async () => {
    const withLogin = await activeGrantOn('pg:orders-db');
    const tokenOnly = await activeGrantOn('svc:orders');
    await endGrant(db, tokenOnly, 'revoked', 'test', new Date());
    await endGrant(db, withLogin, 'revoked', 'test', new Date());
    // Notifications arrive in commit order: once the second is heard, the first would have been.
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual([`${withLogin} pg:orders-db`]);
  });
});
