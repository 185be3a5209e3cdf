import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeGrantIds, createDatabase, insertGrant, migrateToLatest, upsertWorkload, type Database, type Kysely } from '@mayfly/db';
import { LoginReconciler } from '../../services/issuance/src/domain/login-reconciler.js';
import { PostgresqlLogins } from '@mayfly/connectors/postgresql';
import { newGrantRecord } from '../../services/issuance/src/domain/grant-record.js';

/**
 * The reconciler against real PostgreSQL on both sides: Mayfly's grants in a migrated database,
 * the logins in a resource database (issue 22, points 5 and 9). A login made and never committed
 * (the process died between the two) is an orphan; so is the login of a grant that ended while
 * nothing destroyed it.
 */
const SERVER = { host: '127.0.0.1', port: 5432 };
const run = randomBytes(4).toString('hex');
const mayflyDb = `mayfly_recon_${run}`;
const resourceDb = `mayfly_recon_res_${run}`;
const reader = `recon_reader_${run}`;
let db: Kysely<Database>;
let logins: PostgresqlLogins;

async function asOwner(database: string, sql: string): Promise<void> {
  const client = new pg.Client({ ...SERVER, user: 'postgres', database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const committedGrant = async (status: 'active' | 'revoked') => {
  const grant = newGrantRecord({
    spiffeId: 'spiffe://example.org/ci/builder',
    task: { id: `task-${randomUUID()}`, kind: 'ci-job', reference: '', deadline: undefined },
    resource: 'pg:orders-db',
    decision: { grantedActions: ['read'], policyIds: ['p'], policyVersion: 'v' },
    status,
    issuedAt: new Date(),
    expiresAt: new Date(Date.now() + 300_000),
    renewableUntil: new Date(Date.now() + 300_000),
    tokenLifetimeSeconds: 300,
    heartbeatIntervalSeconds: null,
  });
  await insertGrant(db, status === 'active' ? grant : { ...grant, ended_at: new Date(), end_reason: 'revoked in the test' });
  return grant.id;
};

beforeAll(async () => {
  await asOwner('postgres', `CREATE DATABASE ${mayflyDb}`);
  await asOwner('postgres', `CREATE DATABASE ${resourceDb}`);
  await asOwner(resourceDb, `CREATE ROLE ${reader} NOLOGIN`);
  const url = `postgres://postgres@${SERVER.host}:${SERVER.port}/${mayflyDb}`;
  db = createDatabase({ url, maxConnections: 2 });
  await migrateToLatest(db, url, false);
  await upsertWorkload(db, { spiffeId: 'spiffe://example.org/ci/builder', ownerTeam: 'ci', ownerContact: 'ci@example.org', environment: 'dev', riskTier: 'low', ceiling: [{ resource: 'pg:orders-db', actions: ['read'] }] });
  logins = new PostgresqlLogins({ name: 'pg:orders-db', adminUrl: `postgres://postgres@${SERVER.host}:${SERVER.port}/${resourceDb}`, ...SERVER, database: resourceDb, actions: { read: [reader] } });
}, 60_000);

afterAll(async () => {
  for (const grantId of (await logins?.listLive()) ?? []) await logins.destroy(grantId).catch(() => undefined);
  await logins?.close();
  await db?.destroy();
  await asOwner('postgres', `DROP DATABASE IF EXISTS ${mayflyDb} WITH (FORCE)`);
  await asOwner('postgres', `DROP DATABASE IF EXISTS ${resourceDb} WITH (FORCE)`);
  await asOwner('postgres', `DROP ROLE IF EXISTS ${reader}`);
});

describe('login reconciliation', () => {
  it('destroys the orphan of a crash and the login of an ended grant; the login of a live grant stays', async () => {
    const live = await committedGrant('active');
    const ended = await committedGrant('revoked');
    const orphan = randomUUID(); // made, then the process died before the grant committed
    for (const grantId of [live, ended, orphan]) await logins.issue({ grantId, actions: ['read'], expiresAt: new Date(Date.now() + 300_000) });

    const reconciler = new LoginReconciler({ liveLogins: () => logins.listLive(), activeGrants: (ids) => activeGrantIds(db, ids), destroy: (grantId) => logins.destroy(grantId) });
    expect(await reconciler.pass()).toMatchObject({ suspected: 2, destroyed: [] });
    const second = await reconciler.pass();
    expect([...second.destroyed].sort()).toEqual([ended, orphan].sort());
    const remaining = await logins.listLive();
    expect(remaining).toContain(live);
    expect(remaining).not.toContain(ended);
    expect(remaining).not.toContain(orphan);
  });

  it('reconciles 1,000 live logins in two passes: the 900 no grant backs are destroyed, the 100 live grants keep theirs', async () => {
    const backed: string[] = [];
    for (let i = 0; i < 100; i++) backed.push(await committedGrant('active'));
    const orphans = Array.from({ length: 900 }, () => randomUUID());
    for (const grantId of [...backed, ...orphans]) await logins.issue({ grantId, actions: ['read'], expiresAt: new Date(Date.now() + 300_000) });
    const before = new Set(await logins.listLive());
    expect([...backed, ...orphans].every((grantId) => before.has(grantId))).toBe(true);
    const reconciler = new LoginReconciler({ liveLogins: () => logins.listLive(), activeGrants: (ids) => activeGrantIds(db, ids), destroy: (grantId) => logins.destroy(grantId) });
    const first = await reconciler.pass();
    expect(first.destroyed).toEqual([]); // suspected only: a grant may be committing right now
    const report = await reconciler.pass();
    expect(report.failed).toEqual([]);
    const left = new Set(await logins.listLive());
    expect(orphans.filter((grantId) => left.has(grantId))).toEqual([]);
    expect(backed.filter((grantId) => !left.has(grantId))).toEqual([]);
  }, 300_000);
});
