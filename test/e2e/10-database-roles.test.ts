import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropServiceRoles, createDatabase } from '@mayfly/db';
import { ensureDatabase, freePorts } from '@mayfly/mesh';
import { sql } from 'kysely';
import { DEV, RESOURCE, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Step 10: each service reaches PostgreSQL as its own role with only the privileges it needs;
// migrations are a deployment step of their own (`mayfly db migrate`), and a service refuses to
// start on a schema that is not current.

const ADMIN_URL = process.env['MAYFLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI = fileURLToPath(new URL('../../libs/cli/dist/main.js', import.meta.url));
const SERVICE_MAIN = (service: string) => fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('db-roles');
  const access = await t.client(DEV.subject).acquire({ task: { id: `roles-${Date.now()}`, kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
  await access.release();
});
afterAll(async () => {
  await t?.close();
});

/** Runs one statement as a service's own role; returns its rows or the error's message. */
async function asService(service: 'attestation' | 'decision' | 'issuance' | 'revocation' | 'audit', text: string): Promise<{ rows: unknown[] } | { error: string }> {
  const client = new pg.Client({ connectionString: t.mesh.databaseUrls[service] });
  await client.connect();
  try {
    return { rows: (await client.query(text)).rows };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await client.end();
  }
}

describe('10 database roles and migrations', () => {
  it('every service connects as its own role, never as the owner; decision sees only policy sets', async () => {
    const sessions = await sql<{ application_name: string; usename: string }>`
      SELECT application_name, usename FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'mayfly-%'`.execute(t.db);
    const byService = new Map(sessions.rows.map((row) => [row.application_name, row.usename]));
    for (const service of ['attestation', 'decision', 'issuance', 'revocation', 'audit']) {
      expect(byService.get(`mayfly-${service}`), service).toMatch(new RegExp(`^mayfly_e2e_.*_${service}$`));
    }
    // Decision reads and appends policy sets; nothing of the registry, grants or the audit log,
    // and it cannot rewrite a stored version.
    for (const statement of ['SELECT count(*) FROM workloads', 'SELECT count(*) FROM grants', 'SELECT count(*) FROM audit_events', 'SELECT count(*) FROM trusted_issuers', "UPDATE policy_sets SET reason = 'x'", 'DELETE FROM policy_sets']) {
      expect(await asService('decision', statement), statement).toEqual({ error: expect.stringMatching(/permission denied/) });
    }
    expect(await asService('decision', 'SELECT count(*) AS n FROM policy_sets')).toMatchObject({ rows: [{ n: '1' }] });
  });

  it('only the audit service can read or append the audit log, and nobody can change it', async () => {
    for (const service of ['attestation', 'issuance', 'revocation'] as const) {
      expect(await asService(service, 'SELECT count(*) FROM audit_events')).toEqual({ error: expect.stringMatching(/permission denied/) });
      expect(await asService(service, `INSERT INTO audit_events (id, occurred_at, kind, actor, source, task_id, outcome) VALUES (gen_random_uuid(), now(), 'x.y', 'a', 's', 't', 'success')`)).toEqual({
        error: expect.stringMatching(/permission denied/),
      });
    }
    expect(await asService('audit', 'SELECT count(*) AS n FROM audit_events')).toMatchObject({ rows: [{ n: expect.any(String) }] });
    expect(await asService('audit', "UPDATE audit_events SET actor = 'someone-else'")).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('audit', 'DELETE FROM audit_events')).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('audit', 'SELECT count(*) FROM grants')).toEqual({ error: expect.stringMatching(/permission denied/) });
  });

  it('each service can touch only its own tables, and only its own audit outbox rows', async () => {
    // Attestation keeps the registry (RegistryService): it reads grants (to name those a smaller
    // ceiling leaves behind) and may change no grant, revocation or audit record, nor delete a workload.
    expect(await asService('attestation', "UPDATE grants SET status = 'revoked'")).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('attestation', 'DELETE FROM workloads')).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('attestation', "UPDATE workloads SET created_at = now()")).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('attestation', "INSERT INTO revocations (id) VALUES (gen_random_uuid())")).toEqual({ error: expect.stringMatching(/permission denied/) });
    // Issuance reads revocations (revoked signing keys) and may not write them.
    expect(await asService('issuance', "UPDATE revocations SET reason = 'x'")).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('issuance', 'DELETE FROM grants')).toEqual({ error: expect.stringMatching(/permission denied/) });
    // Revocation may move a workload's session cut-off (svids_not_before), nothing else of it.
    expect(await asService('revocation', "UPDATE workloads SET risk_tier = 'low'")).toEqual({ error: expect.stringMatching(/permission denied/) });
    expect(await asService('revocation', "INSERT INTO workloads (spiffe_id, owner_team, owner_contact, environment, risk_tier) VALUES ('spiffe://x/y', 't', 'c', 'dev', 'low')")).toEqual({
      error: expect.stringMatching(/permission denied/),
    });
    expect(await asService('issuance', 'CREATE TABLE sneaky (x int)')).toEqual({ error: expect.stringMatching(/permission denied/) });
    // Row-level security: issuance sees and changes only issuance's outbox rows. Delivered rows
    // leave the outbox, so one row of each owner is put there (dead-lettered: no retry loop takes it).
    const parked = [randomUUID(), randomUUID()];
    await t.db
      .insertInto('audit_outbox')
      .values([
        { id: parked[0]!, owner: 'issuance', payload: Buffer.from([0]), last_error: null, delivered_at: null, dead_lettered_at: new Date() },
        { id: parked[1]!, owner: 'revocation', payload: Buffer.from([0]), last_error: null, delivered_at: null, dead_lettered_at: new Date() },
      ])
      .execute();
    const owners = await asService('issuance', 'SELECT DISTINCT owner FROM audit_outbox');
    expect(owners).toEqual({ rows: [{ owner: 'issuance' }] });
    expect(await asService('issuance', "UPDATE audit_outbox SET delivered_at = NULL WHERE owner = 'revocation' RETURNING id")).toEqual({ rows: [] });
    expect(await asService('issuance', "DELETE FROM audit_outbox WHERE owner = 'revocation' RETURNING id")).toEqual({ rows: [] });
    expect(await t.db.selectFrom('audit_outbox').select('id').where('id', '=', parked[1]!).execute()).toHaveLength(1);
    await t.db.deleteFrom('audit_outbox').where('id', 'in', parked).execute();
    expect(await asService('issuance', "INSERT INTO audit_outbox (id, owner, payload) VALUES (gen_random_uuid(), 'revocation', '\\x00')")).toEqual({
      error: expect.stringMatching(/row-level security/),
    });
  });

  it('a service refuses to start on a database that has not been migrated, saying what to run', async () => {
    const url = Object.assign(new URL(ADMIN_URL), { pathname: `/mayfly_e2e_unmigrated_${Date.now().toString(36)}` }).toString();
    await ensureDatabase(url);
    try {
      const [port, health, metrics] = await freePorts(3);
      const result = spawnSync(process.execPath, [SERVICE_MAIN('audit')], {
        env: { ...process.env, ...t.mesh.env, DATABASE_URL: url, MAYFLY_AUDIT_PORT: String(port), MAYFLY_AUDIT_HEALTH_PORT: String(health), MAYFLY_AUDIT_METRICS_PORT: String(metrics) },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).toContain('mayfly db migrate');
    } finally {
      const admin = createDatabase({ url: ADMIN_URL, maxConnections: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`).execute(admin);
      await admin.destroy();
    }
  });

  it('`mayfly db migrate` migrates and provisions the roles; `mayfly db status` reports the schema current', async () => {
    const suffix = Date.now().toString(36);
    const url = Object.assign(new URL(ADMIN_URL), { pathname: `/mayfly_e2e_cli_${suffix}` }).toString();
    const prefix = `mayfly_e2e_cli_${suffix}_`;
    await ensureDatabase(url);
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--database-url', url, '--json'], { encoding: 'utf8', timeout: 30_000 });
    try {
      const before = run('db', 'status');
      expect(before.status).toBe(1);
      expect(JSON.parse(before.stdout)).toMatchObject({ current: false });

      const migrated = run('db', 'migrate', '--role-prefix', prefix);
      expect(migrated.status, migrated.stderr).toBe(0);
      const result = JSON.parse(migrated.stdout) as { migrations: { appliedAt: string | null }[]; roles: { role: string }[] };
      expect(result.migrations.every((m) => m.appliedAt)).toBe(true);
      expect(result.roles.map((r) => r.role)).toEqual(['attestation', 'decision', 'issuance', 'revocation', 'audit'].map((s) => `${prefix}${s}`));

      const after = run('db', 'status');
      expect(after.status).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ current: true });
      // Running it again changes nothing and succeeds (deployments run it on every upgrade).
      expect(run('db', 'migrate', '--role-prefix', prefix).status).toBe(0);
    } finally {
      const admin = createDatabase({ url: ADMIN_URL, maxConnections: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS "mayfly_e2e_cli_${suffix}" WITH (FORCE)`).execute(admin);
      await dropServiceRoles(admin, prefix);
      await admin.destroy();
    }
  });
});
