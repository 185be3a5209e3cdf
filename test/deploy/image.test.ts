import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest } from '@mayfly/db';
import { waitForHealthy } from '@mayfly/grpc';
import { ensureDatabase, freePorts } from '@mayfly/mesh';

// The container image's entry point and health check, run for real from the repository (the
// same layout the image has under /app), and the Dockerfile's rules. The image itself is built
// and its compose stack run by test/deploy/container/run.sh, which .ci/run calls.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = `${ROOT}deploy/image/mayfly-service.mjs`;
const HEALTHCHECK = `${ROOT}deploy/image/healthcheck.mjs`;
const children: ReturnType<typeof spawn>[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

/** The Dockerfile as stages: the lines after each FROM. */
function stages(): string[][] {
  const lines = readFileSync(`${ROOT}deploy/Dockerfile`, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const result: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) result.push([]);
    result.at(-1)?.push(line);
  }
  return result;
}

describe('container image', () => {
  it('the entry point runs a service by its name, and the health check reports it SERVING, then not', async () => {
    // Decision needs only its database (the policy sets): a fresh one, migrated.
    const admin = process.env['MAYFLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const url = Object.assign(new URL(admin), { pathname: `/mayfly_e2e_image_${Date.now().toString(36)}` }).toString();
    await ensureDatabase(url);
    const db = createDatabase({ url, maxConnections: 1 });
    try {
      await migrateToLatest(db, url);
      const [port, health, metrics] = await freePorts(3);
      const env = { ...process.env, DATABASE_URL: url, MAYFLY_INSECURE_DEV: 'true', MAYFLY_DECISION_PORT: String(port), MAYFLY_DECISION_HEALTH_PORT: String(health), MAYFLY_DECISION_METRICS_PORT: String(metrics) };
      const decision = spawn(process.execPath, [ENTRY, 'decision'], { env, stdio: 'ignore' });
      children.push(decision);
      await waitForHealthy(`127.0.0.1:${health}`, 20_000);
      const probe = () => spawnSync(process.execPath, [HEALTHCHECK], { env: { ...env, MAYFLY_SERVICE: 'decision' }, encoding: 'utf8', timeout: 10_000 });
      expect(probe().status).toBe(0);
      decision.kill('SIGTERM');
      await new Promise((resolve) => decision.once('exit', resolve));
      expect(probe().status).toBe(1);
    } finally {
      await db.destroy();
      const dropper = createDatabase({ url: admin, maxConnections: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`).execute(dropper);
      await dropper.destroy();
    }
  });

  it('the entry point refuses a name that is not a service', () => {
    const result = spawnSync(process.execPath, [ENTRY, 'bitcoin-miner'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('one of: attestation, decision, issuance, revocation, audit, edge-verifier');
  });

  it('the entry point runs the operator CLI for init and migration jobs (mayfly-service mayfly <noun> <verb>)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-keys-'));
    const init = () => spawnSync(process.execPath, [ENTRY, 'mayfly', 'keys', 'init', '--dir', dir, '--json'], { encoding: 'utf8' });
    const first = init();
    expect(first.status, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { changes: { change: string }[] }).changes).toEqual([{ kid: expect.any(String), change: 'now active' }]);
    expect((JSON.parse(init().stdout) as { changes: unknown[] }).changes).toEqual([]); // idempotent: the job may run at every deploy

    // compose's init-pki: each service's certificate also names its compose host (edges fetch https://issuance:8080).
    const pki = mkdtempSync(join(tmpdir(), 'image-pki-'));
    const made = spawnSync(process.execPath, [ENTRY, 'mayfly', 'pki', 'init', '--dir', pki, '--json'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const san = new X509Certificate(readFileSync(join(pki, 'issuance.pem'))).subjectAltName;
    expect(san).toContain('DNS:issuance');
    expect(san).toContain('URI:spiffe://mayfly.local/mayfly/issuance');
  });

  it('the Dockerfile: multi-stage on Node 24 slim (overridable base), production dependencies only, non-root, health check, entry point', () => {
    // The real build and run are test/deploy/container/run.sh's (CI); this keeps the rules readable.
    const all = stages();
    expect(all.length).toBeGreaterThanOrEqual(2);
    const base = readFileSync(`${ROOT}deploy/Dockerfile`, 'utf8').match(/^ARG BASE_IMAGE=(\S+)$/m)?.[1];
    expect(base).toMatch(/^node:24-[a-z]+-slim$/);
    for (const stage of all) expect(stage[0]).toMatch(/^FROM \$\{BASE_IMAGE\}( AS \w+)?$/);
    const final = all.at(-1)!;
    expect(final.find((line) => /^USER\s/.test(line))).toMatch(/^USER (node|[1-9]\d*)$/);
    const healthcheck = final.find((line) => line.startsWith('HEALTHCHECK ')) ?? '';
    expect(healthcheck).toContain('healthcheck.mjs');
    // A busy machine took 1.3–2.6 s for the old grpc-js check, and a 3 s timeout marked the demo unhealthy.
    expect(Number(/--timeout=(\d+)s/.exec(healthcheck)?.[1])).toBeGreaterThanOrEqual(10);
    expect(final.find((line) => line.startsWith('ENTRYPOINT'))).toContain('mayfly-service.mjs');
    expect(final.some((line) => /^RUN\s/.test(line))).toBe(false); // nothing installed or run as root in the final stage
    const installs = all.flat().filter((line) => /npm ci/.test(line));
    expect(installs.some((line) => line.includes('--omit=dev') && line.includes('--ignore-scripts'))).toBe(true);
    expect(all.flat().some((line) => /^ADD\s/.test(line))).toBe(false);
  });

  it('.dockerignore keeps local state, keys and dependencies out of the build context', () => {
    const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n').map((line) => line.trim());
    for (const entry of ['.git', 'node_modules', '.mayfly', '**/dist']) expect(ignored).toContain(entry);
  });
});
