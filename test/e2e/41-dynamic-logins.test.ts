import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@mayfly/grpc';
import { DEMO_ORDERS_DB } from '@mayfly/mesh';
import { ApprovalServiceClient, GrantStatus, IssuanceServiceClient, RegistryServiceClient, RenewGrantRequest, RequestGrantRequest, ResourceKind, type Login, type WatchGrantResponse } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

/**
 * Issue 22 end to end, on the real mesh and the machine's PostgreSQL: a grant on a resource the
 * registry gives dynamic logins carries a login made for it; the database itself enforces what it
 * may do; revoking the grant terminates the session it has open and refuses new logins, within
 * milliseconds; the password is in the answer only.
 */
const run = randomBytes(4).toString('hex');
const database = `mayfly_dyn_${run}`;
const reader = `dyn_reader_${run}`;
const writer = `dyn_writer_${run}`;
let t: TestMesh;
let registry: RegistryServiceClient;
let tracesFile: string;

async function asOwner<R extends pg.QueryResultRow = pg.QueryResultRow>(db: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: db });
  await client.connect();
  try {
    return await client.query<R>(sql, values);
  } finally {
    await client.end();
  }
}
const roleExists = async (user: string) => (await asOwner(database, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).rowCount === 1;

const grantLogin = async (taskId: string) => {
  const response = await callUnary(t.issuance, t.issuance.requestGrant, RequestGrantRequest.fromPartial({
    evidence: { oidcToken: await t.evidence(DEV.subject) },
    task: { id: taskId, kind: 'ci-job', reference: 'JOB-41' },
    resource: RESOURCE,
    actions: ['read'],
    requestedTtlSeconds: 120,
  }));
  return { grantId: response.grant!.id, accessToken: response.accessToken, expiresAt: response.grant!.expiresAt!, login: response.credential?.login as Login };
};
const connectWith = (login: Login) => new pg.Client({ host: login.host, port: login.port, user: login.user, password: login.password, database: login.database });
/** Whether the login can log in now; the reaper may terminate the probe's session while it looks. */
const canLogIn = async (login: Login): Promise<boolean> => {
  const client = connectWith(login);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    return false;
  }
  await client.end().catch(() => undefined);
  return true;
};

beforeAll(async () => {
  await asOwner('postgres', `CREATE DATABASE ${database}`);
  await asOwner(database, 'CREATE TABLE orders (id int PRIMARY KEY, total numeric)');
  await asOwner(database, 'INSERT INTO orders VALUES (1, 10)');
  await asOwner(database, `CREATE ROLE ${reader} NOLOGIN`);
  await asOwner(database, `GRANT SELECT ON orders TO ${reader}`);
  await asOwner(database, `CREATE ROLE ${writer} NOLOGIN`);
  await asOwner(database, `GRANT SELECT, INSERT ON orders TO ${writer}`);
  const adminFile = join(mkdtempSync(join(tmpdir(), 'mayfly-dyn-')), 'admin-url');
  writeFileSync(adminFile, `postgres://postgres@127.0.0.1:5432/${database}`, { mode: 0o600 });
  tracesFile = join(mkdtempSync(join(tmpdir(), 'mayfly-dyn-traces-')), 'traces.jsonl');
  t = await startTestMesh('dynamic_logins', { env: { MAYFLY_LOGIN_RECONCILE_MS: '500', MAYFLY_RESOURCE_CACHE_MS: '0', MAYFLY_TRACES_FILE: tracesFile } });
  registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
  await callUnary(registry, registry.putResource, {
    resource: { name: RESOURCE, kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, host: '127.0.0.1', port: 5432, database, adminCredentialFile: adminFile, actions: { read: { grants: [reader] }, write: { grants: [writer] } }, connectionLimit: 3, updatedBy: '', updatedAt: undefined },
    reason: 'e2e 41',
  });
}, 120_000);

afterAll(async () => {
  registry?.close();
  await t?.close();
  await asOwner('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  // Only this suite's logins (members of its role): other suites may hold theirs right now.
  const { rows } = await client.query<{ rolname: string }>(
    "SELECT login.rolname FROM pg_roles login JOIN pg_auth_members m ON m.member = login.oid JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = ANY($1) AND login.rolname LIKE 'mayfly\\_g\\_%'",
    [[reader, writer]],
  );
  for (const row of rows) await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(row.rolname)}`).catch(() => undefined);
  await client.query(`DROP ROLE IF EXISTS ${reader}`);
  await client.query(`DROP ROLE IF EXISTS ${writer}`);
  await client.end();
});

describe('41 dynamic logins on the grant path', () => {
  it('a grant on a database resource carries a login that reads and may not write; the password is in the answer only', async () => {
    const { grantId, accessToken, login } = await grantLogin(`dyn-read-${run}`);
    expect(accessToken).not.toBe(''); // it authenticates the grant's lifecycle calls
    expect(login).toMatchObject({ system: 'postgresql', database, user: `mayfly_g_${grantId.replaceAll('-', '')}` });
    const client = connectWith(login);
    await client.connect();
    try {
      expect((await client.query('SELECT total FROM orders WHERE id = 1')).rows).toHaveLength(1);
      await expect(client.query('DELETE FROM orders')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
    await eventually(async () => (await t.db.selectFrom('audit_events').select('detail').where('kind', '=', 'credential.issued').where('grant_id', '=', grantId).execute()).length === 1);
    const recorded = JSON.stringify(await t.db.selectFrom('audit_events').selectAll().where('grant_id', '=', grantId).execute());
    expect(recorded).toContain(login.user);
    // Every log line and every span of the run so far (positive control: the login's own span is there).
    await eventually(async () => existsSync(tracesFile) && readFileSync(tracesFile, 'utf8').includes('issue credential'));
    for (const text of [recorded, t.logLines.join('\n'), readFileSync(tracesFile, 'utf8')]) expect(text).not.toContain(login.password);
  });

  it('revoking the grant terminates its open session and refuses new logins, within milliseconds', async () => {
    const { grantId, login } = await grantLogin(`dyn-revoke-${run}`);
    const open = connectWith(login);
    let ended: number | undefined;
    open.on('error', () => void (ended ??= performance.now()));
    open.on('end', () => void (ended ??= performance.now()));
    await open.connect();
    await open.query('SELECT 1');
    const revokedAt = performance.now();
    await callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'e2e 41: revoke ends the session', requestedBy: 'e2e', finalStatus: 0 });
    await eventually(async () => ended !== undefined, 5_000, 5);
    const tookMs = ended! - revokedAt;
    console.log(`dynamic logins: open PostgreSQL session terminated ${tookMs.toFixed(1)} ms after Revoke was sent`);
    await expect(connectWith(login).connect()).rejects.toMatchObject({ code: expect.stringMatching(/^28/) });
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('kind', '=', 'credential.destroyed').where('grant_id', '=', grantId).execute()).length === 1);
  });

  it("renewal moves the login's VALID UNTIL with the token: the password stops working when the token does", async () => {
    const { grantId, accessToken, expiresAt, login } = await grantLogin(`dyn-renew-${run}`);
    const validUntil = async () => (await asOwner<{ until: Date }>(database, 'SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1', [login.user])).rows[0]!.until;
    expect((await validUntil()).getTime()).toBe(expiresAt.getTime());
    expect(login.validUntil!.getTime()).toBe(expiresAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // so the renewed expiry differs
    const renewed = await callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId, accessToken }));
    expect(renewed.grant!.expiresAt!.getTime()).toBeGreaterThan(expiresAt.getTime());
    expect((await validUntil()).getTime()).toBe(renewed.grant!.expiresAt!.getTime());
    await callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'e2e 41: renewed', requestedBy: 'e2e', finalStatus: 0 });
  });

  it('the client library hands the login over as a driver config; releasing the grant ends its session', async () => {
    const client = t.client(DEV.subject);
    try {
      const access = await client.acquire({ task: { id: `dyn-client-${run}`, kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
      expect(access.login).toMatchObject({ system: 'postgresql', database, connectionString: expect.stringMatching(/^postgres:\/\/mayfly_g_[0-9a-f]{32}:/) });
      expect(access.database).toEqual(access.login); // the name the example uses
      const db = new pg.Client({ connectionString: access.login!.connectionString });
      let ended = false;
      db.on('error', () => void (ended = true));
      db.on('end', () => void (ended = true));
      await db.connect();
      expect((await db.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(1);
      await access.release();
      await eventually(async () => ended, 5_000, 10);
      await expect(new pg.Client({ connectionString: access.login!.connectionString }).connect()).rejects.toMatchObject({ code: expect.stringMatching(/^28/) });
    } finally {
      client.close();
    }
  });

  it('a grant that waits for approval gets its login when it is collected, once: none exists before the approval', async () => {
    const pending = await callUnary(t.issuance, t.issuance.requestGrant, RequestGrantRequest.fromPartial({
      evidence: { oidcToken: await t.evidence(PROD.subject) },
      task: { id: `dyn-approval-${run}`, kind: 'change', reference: 'CHG-41' },
      resource: RESOURCE,
      actions: ['write'],
      requestedTtlSeconds: 120,
      justification: 'backfill one order',
    }));
    const grantId = pending.grant!.id;
    expect(pending.grant!.status).toBe(GrantStatus.GRANT_STATUS_PENDING_APPROVAL);
    expect(pending.credential).toBeUndefined();
    const user = `mayfly_g_${grantId.replaceAll('-', '')}`;
    const userExists = () => roleExists(user);
    expect(await userExists()).toBe(false); // nothing to leak while people decide
    const approvals = createClient(ApprovalServiceClient, t.mesh.addresses.issuance, 'issuance');
    try {
      for (const [email, groups] of [['alice@example.com', ['sre']], ['bob@example.com', ['data-owners']]] as const) {
        await callUnary(approvals, approvals.approve, { grantId, idToken: await t.person(email, [...groups]), reason: 'e2e 41' });
      }
    } finally {
      approvals.close();
    }
    const watch = () => new Promise<WatchGrantResponse[]>((resolve, reject) => {
      const messages: WatchGrantResponse[] = [];
      const stream = t.issuance.watchGrant({ grantId, claimSecret: pending.claimSecret }, { deadline: Date.now() + 20_000 });
      stream.on('data', (message: WatchGrantResponse) => messages.push(message));
      stream.on('end', () => resolve(messages));
      stream.on('error', reject);
    });
    const collected = (await watch()).at(-1)!;
    expect(collected.accessToken).not.toBe('');
    const login = collected.credential!.login!;
    expect(login).toMatchObject({ system: 'postgresql', database, user });
    const client = connectWith(login);
    await client.connect();
    try {
      await client.query('INSERT INTO orders VALUES (41, 41)');
      await expect(client.query('DELETE FROM orders')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
    // The password left once: a second collection is refused rather than answered with a new one.
    await expect(watch()).rejects.toMatchObject({ details: expect.stringContaining('collected already') });
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('kind', '=', 'credential.issued').where('grant_id', '=', grantId).execute()).length === 1);
    await callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'e2e 41: done', requestedBy: 'e2e', finalStatus: 0 });
    await eventually(async () => !(await userExists()), 5_000, 20);
  });

  it('with the reaper down during 20 revocations, every login is destroyed once issuance is back (its durable consumer, or the reconciler)', async () => {
    const grants: Awaited<ReturnType<typeof grantLogin>>[] = [];
    for (let i = 0; i < 20; i++) grants.push(await grantLogin(`dyn-away-${run}-${i}`));
    await t.mesh.stopService('issuance');
    try {
      for (const { grantId } of grants) await callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'e2e 41: reaper away', requestedBy: 'e2e', finalStatus: 0 });
      // Nobody destroyed them: the notifications went to nobody.
      const stillThere = await Promise.all(grants.map(({ login }) => canLogIn(login)));
      expect(stillThere.every(Boolean)).toBe(true);
    } finally {
      await t.mesh.startService('issuance');
    }
    await eventually(async () => {
      const loggedIn = await Promise.all(grants.map(({ login }) => canLogIn(login)));
      return loggedIn.every((yes) => !yes);
    }, 15_000, 250);
  }, 60_000);

  it('revocations made while issuance was away reach the reaper through its durable consumer of the revocation stream (no reconciler needed)', async () => {
    const grants: Awaited<ReturnType<typeof grantLogin>>[] = [];
    for (let i = 0; i < 5; i++) grants.push(await grantLogin(`dyn-stream-${run}-${i}`));
    await t.mesh.stopService('issuance');
    // A replica whose reconciler would not act for ten minutes, and whose trigger listener starts
    // after the revocations: only the durable consumer can end these logins in time.
    let replica: Awaited<ReturnType<TestMesh['mesh']['startReplica']>> | undefined;
    try {
      for (const { grantId } of grants) await callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'e2e 41: issuance away', requestedBy: 'e2e', finalStatus: 0 });
      expect((await Promise.all(grants.map(({ login }) => roleExists(login.user)))).every(Boolean)).toBe(true);
      replica = await t.mesh.startReplica('issuance', { env: { MAYFLY_LOGIN_RECONCILE_MS: '600000' } });
      await eventually(async () => (await Promise.all(grants.map(({ login }) => roleExists(login.user)))).every((exists) => !exists), 10_000, 100);
      // The records follow the drops through the outbox (delivered up to the audit linger later).
      const destroyedRecords = () => t.db.selectFrom('audit_events').select('detail').where('kind', '=', 'credential.destroyed').where('grant_id', 'in', grants.map(({ grantId }) => grantId)).execute();
      await eventually(async () => (await destroyedRecords()).length === grants.length, 10_000, 50);
      const how = await destroyedRecords();
      expect(how.map((row) => JSON.stringify(row.detail))).toEqual(grants.map(() => expect.stringContaining('from the revocation stream')));
    } finally {
      await replica?.stop().catch(() => undefined);
      await t.mesh.startService('issuance');
    }
  }, 60_000);

  it('kill -9 of issuance between making a login and committing its grant leaves an orphan, which the reconciler removes', async () => {
    const loginsOfSuite = async () => {
      const { rows } = await asOwner<{ rolname: string }>(
        database,
        'SELECT login.rolname FROM pg_roles login JOIN pg_auth_members m ON m.member = login.oid JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1',
        [reader],
      );
      return new Set(rows.map((row) => row.rolname));
    };
    const before = await loginsOfSuite();
    const doomed = await t.mesh.startReplica('issuance', { env: { MAYFLY_FAULT_INJECTION: 'crash-after-login-created' } });
    const viaDoomed = createClient(IssuanceServiceClient, doomed.address, 'issuance');
    try {
      const request = RequestGrantRequest.fromPartial({ evidence: { oidcToken: await t.evidence(DEV.subject) }, task: { id: `dyn-crash-${run}`, kind: 'ci-job', reference: '' }, resource: RESOURCE, actions: ['read'] });
      await expect(callUnary(viaDoomed, viaDoomed.requestGrant, request, { timeoutMs: 10_000 })).rejects.toThrow(); // the process died mid-grant
    } finally {
      viaDoomed.close();
      await doomed.stop().catch(() => undefined);
    }
    const orphans = [...(await loginsOfSuite())].filter((user) => !before.has(user));
    expect(orphans).toHaveLength(1); // made before the crash: the positive control
    const grantId = orphans[0]!.slice('mayfly_g_'.length).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    expect(await t.db.selectFrom('grants').select('id').where('id', '=', grantId).executeTakeFirst()).toBeUndefined(); // no grant: an orphan
    await eventually(async () => !(await loginsOfSuite()).has(orphans[0]!), 10_000, 100);
  }, 60_000);

  it('the reconciler removes a login no grant backs (made, then the process died before the grant committed)', async () => {
    const orphan = '0b8d3c2a-1e4f-4a5b-8c6d-7e8f9a0b1c2d';
    const user = `mayfly_g_${orphan.replaceAll('-', '')}`;
    await asOwner(database, `CREATE ROLE ${user} LOGIN PASSWORD 'orphaned' IN ROLE ${reader}`);
    const exists = () => roleExists(user);
    expect(await exists()).toBe(true);
    await eventually(async () => !(await exists()), 10_000, 100);
  });
  it("the demo (compose's way: MAYFLY_DEMO_ORDERS_*) registers its database, reads with the grant's login and shows the session cut on revoke", async () => {
    const demoDatabase = `mayfly_dyn_demo_${run}`;
    await asOwner('postgres', `CREATE DATABASE ${demoDatabase}`);
    try {
      // The reader role is the demo's fixed name (shared with npm start's demo database): made if missing, never dropped.
      await asOwner('postgres', `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${DEMO_ORDERS_DB.reader}') THEN CREATE ROLE ${DEMO_ORDERS_DB.reader} NOLOGIN; END IF; END $$`);
      await asOwner(demoDatabase, 'CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric)');
      await asOwner(demoDatabase, "INSERT INTO orders VALUES (1, 'ada', 1), (2, 'grace', 2)");
      await asOwner(demoDatabase, `GRANT SELECT ON orders TO ${DEMO_ORDERS_DB.reader}`);
      const dir = mkdtempSync(join(tmpdir(), 'mayfly-dyn-demo-'));
      const adminFile = join(dir, 'orders-admin-url');
      writeFileSync(adminFile, `postgres://postgres@127.0.0.1:5432/${demoDatabase}`, { mode: 0o600 });
      const env = { ...process.env, MAYFLY_STATE_DIR: dir, MAYFLY_DEMO_ORDERS_ADMIN_FILE: adminFile, MAYFLY_DEMO_ORDERS_DB: `postgres://127.0.0.1:5432/${demoDatabase}` };
      const cli = (...args: string[]) => promisify(execFile)(process.execPath, [join(process.cwd(), 'libs/cli/dist/main.js'), ...args], { env });
      expect((await cli('mesh', 'seed')).stdout).toContain(`and ${DEMO_ORDERS_DB.resource}`);
      const { stdout } = await cli('mesh', 'demo');
      const step = stdout.slice(stdout.indexOf('11. login'));
      expect(step).toMatch(/login mayfly_g_[0-9a-f]{32} .*SELECT count\(\*\) FROM orders → 2/);
      expect(step).toContain('DELETE FROM orders with the same login: refused by PostgreSQL (42501)');
      expect(step).toMatch(/the open session was terminated \d+\.\d ms after Revoke was sent/);
      expect(step).toMatch(/a new login with the same password: refused \(28/);
      await callUnary(registry, registry.removeResource, { name: DEMO_ORDERS_DB.resource, reason: 'e2e 41: demo over' });
    } finally {
      await asOwner('postgres', `DROP DATABASE IF EXISTS ${demoDatabase} WITH (FORCE)`);
    }
  }, 120_000);
});
