import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { assertSchemaCurrent, createDatabase, migrateToLatest, type Database } from '@mayfly/db';
import { waitForHealthy } from '@mayfly/grpc';
import { ensureDatabase, freePorts } from '@mayfly/mesh';

// Issue 23, point 5: the upgrade and rollback path (deploy/README.md, "Upgrades and rollbacks").
// A newer release migrates the database (here: an added table and column, recorded as migration
// 999-from-a-newer-release); then the deployment is rolled back. This build — the "old pods" —
// must start on that newer schema and serve, and its migration job (`mayfly db migrate`, the
// chart's pre-upgrade hook) must pass instead of refusing the unknown migration.

const CLI = fileURLToPath(new URL('../../libs/cli/dist/main.js', import.meta.url));
const SERVICE = fileURLToPath(new URL('../../deploy/image/mayfly-service.mjs', import.meta.url));
const admin = process.env['MAYFLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const url = Object.assign(new URL(admin), { pathname: `/mayfly_e2e_rollback_${Date.now().toString(36)}` }).toString();
let db: Kysely<Database>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await ensureDatabase(url);
  db = createDatabase({ url, maxConnections: 2 });
  await migrateToLatest(db, url);
  // What a newer release's migration would do: only add.
  await sql`CREATE TABLE future_things (id uuid PRIMARY KEY, note text)`.execute(db);
  await sql`ALTER TABLE grants ADD COLUMN future_note text`.execute(db);
  await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('999-from-a-newer-release', ${new Date().toISOString()})`.execute(db);
}, 60_000);

afterAll(async () => {
  children.forEach((child) => child.kill('SIGKILL'));
  await db?.destroy();
  const dropper = createDatabase({ url: admin, maxConnections: 1 });
  await sql.raw(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`).execute(dropper);
  await dropper.destroy();
});

describe('43 upgrade and rollback', () => {
  it("this build's migration job passes on a database a newer release migrated, and says so", () => {
    const result = spawnSync(process.execPath, [CLI, 'db', 'migrate', '--database-url', url, '--skip-roles'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('the database is ahead of this build (a newer release applied 999-from-a-newer-release): nothing to migrate');
  });

  it('its services start on the newer schema and serve (old pods after a rollback)', async () => {
    await expect(assertSchemaCurrent(db)).resolves.toBeUndefined();
    const [port, health, metrics] = await freePorts(3);
    const env = { ...process.env, DATABASE_URL: url, MAYFLY_INSECURE_DEV: 'true', MAYFLY_DECISION_PORT: String(port), MAYFLY_DECISION_HEALTH_PORT: String(health), MAYFLY_DECISION_METRICS_PORT: String(metrics) };
    const decision = spawn(process.execPath, [SERVICE, 'decision'], { env, stdio: 'ignore' });
    children.push(decision);
    await waitForHealthy(`127.0.0.1:${health}`, 30_000);
  });

  it('a database from another line of releases (newer migrations, and one of ours missing) is refused with what to do', async () => {
    await sql`DELETE FROM kysely_migration WHERE name = '026-grant-ended-notify'`.execute(db);
    try {
      const result = spawnSync(process.execPath, [CLI, 'db', 'migrate', '--database-url', url, '--skip-roles'], { encoding: 'utf8', timeout: 60_000 });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('lacks some it does (026-grant-ended-notify)');
    } finally {
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('026-grant-ended-notify', ${new Date().toISOString()})`.execute(db);
    }
  });
});
