/**
 * Dynamic logins through the whole mesh (issue 22, point 10), as part of `npm run bench`: grants on
 * resources the registry gives logins (PostgreSQL, MariaDB, Redis) within attested sessions —
 * attest nothing, decide, make the login, commit — serial and at 16 callers; Revoke → the open
 * PostgreSQL session of the grant's login terminated; and 1,000 PostgreSQL logins no grant backs,
 * found and destroyed by issuance's reconciler.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WorkloadSession } from '@mayfly/client';
import { serviceAddress } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { DEMO, type DevIssuer } from '@mayfly/mesh';
import { IssuanceServiceClient, RegistryServiceClient, ResourceKind, RevocationServiceClient, type Login } from '@mayfly/proto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { BENCH_WORKLOADS, benchSubject, grantBody } from './grant-phases.js';
import { runLoad, type LoadPhase, type LoadTiming } from './load.js';
import { endProgress, progress, summarize, type LatencySummary } from './stats.js';

/** The resources the bench workloads' ceilings name (fixed names; each run points them at its own database). */
export const LOGIN_RESOURCES = { postgresql: 'pg:bench-logins', mariadb: 'mariadb:bench-logins', redis: 'redis:bench-logins' } as const;
type System = keyof typeof LOGIN_RESOURCES;

export interface LoginGrantsResult {
  readonly grants: LoadPhase[];
  /** From the Revoke answer / from sending Revoke, to the open PostgreSQL session's end. */
  readonly revokeToSessionEnded: { rounds: number; fromAcknowledgement: LatencySummary; fromRequest: LatencySummary };
  /** 1,000 orphaned PostgreSQL logins: from the last one made until the reconciler has destroyed all. */
  readonly reconcile1000: { orphans: number; seconds: number; reconcileIntervalMs: number; left: number };
}

const run = randomBytes(4).toString('hex');
const sqlDatabase = `mayfly_bench_lg_${run}`;
const sqlRole = `bench_lg_reader_${run}`;

async function asPostgres(database: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/** The PostgreSQL logins this run's resource made that still exist. */
async function livePostgresLogins(): Promise<number> {
  const result = await asPostgres(
    'postgres',
    'SELECT count(*)::int AS n FROM pg_roles login JOIN pg_auth_members m ON m.member = login.oid JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1',
    [sqlRole],
  );
  return (result.rows[0] as { n: number }).n;
}

async function createSystems(): Promise<() => Promise<void>> {
  await asPostgres('postgres', `CREATE DATABASE ${sqlDatabase}`);
  await asPostgres(sqlDatabase, `CREATE ROLE ${sqlRole} NOLOGIN`);
  const root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', charset: 'UTF8MB4_GENERAL_CI' });
  await root.query(`CREATE DATABASE ${sqlDatabase}`);
  await root.query(`CREATE ROLE ${sqlRole}`);
  await root.query(`GRANT SELECT ON ${sqlDatabase}.* TO ${sqlRole}`);
  return async () => {
    await root.query(`DROP DATABASE IF EXISTS ${sqlDatabase}`);
    await root.query(`DROP ROLE IF EXISTS ${sqlRole}`);
    await root.end();
    await asPostgres('postgres', `DROP DATABASE IF EXISTS ${sqlDatabase} WITH (FORCE)`);
    await asPostgres('postgres', `DROP ROLE IF EXISTS ${sqlRole}`);
  };
}

async function registerResources(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-bench-admin-'));
  const file = (name: string, url: string): string => {
    const path = join(dir, name);
    writeFileSync(path, url, { mode: 0o600 });
    return path;
  };
  const registry = createClient(RegistryServiceClient, serviceAddress('attestation'), 'attestation');
  const entries = [
    { name: LOGIN_RESOURCES.postgresql, kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, port: 5432, database: sqlDatabase, adminCredentialFile: file('pg', `postgres://postgres@127.0.0.1:5432/${sqlDatabase}`), actions: { read: { grants: [sqlRole] } } },
    { name: LOGIN_RESOURCES.mariadb, kind: ResourceKind.RESOURCE_KIND_MARIADB, port: 3306, database: sqlDatabase, adminCredentialFile: file('mariadb', 'mysql://root@127.0.0.1:3306'), actions: { read: { grants: [sqlRole] } } },
    { name: LOGIN_RESOURCES.redis, kind: ResourceKind.RESOURCE_KIND_REDIS, port: 6379, database: '', adminCredentialFile: file('redis', 'redis://127.0.0.1:6379'), actions: { read: { grants: [`~bench-${run}:*`, '+get'] } } },
  ];
  try {
    for (const entry of entries) {
      await callUnary(registry, registry.putResource, { resource: { ...entry, host: '127.0.0.1', connectionLimit: 4, updatedBy: '', updatedAt: undefined }, reason: 'npm run bench: dynamic logins' });
    }
  } finally {
    registry.close();
  }
}

/** Off the registry again, so that no reconciler keeps trying a database this run drops. */
async function removeResources(): Promise<void> {
  const registry = createClient(RegistryServiceClient, serviceAddress('attestation'), 'attestation');
  try {
    for (const name of Object.values(LOGIN_RESOURCES)) {
      await callUnary(registry, registry.removeResource, { name, reason: 'npm run bench: done' }).catch((error: unknown) => process.stderr.write(`bench: could not remove ${name}: ${(error as Error).message}\n`));
    }
  } finally {
    registry.close();
  }
}

async function startSessions(issuer: DevIssuer): Promise<{ sessions: WorkloadSession[]; close: () => void }> {
  const bootstrap = createClient(IssuanceServiceClient, serviceAddress('issuance'), 'issuance');
  const sessions: WorkloadSession[] = [];
  for (let i = 0; i < BENCH_WORKLOADS; i++) {
    const evidence = { oidcToken: await issuer.mint(benchSubject(i), { audience: DEMO.audience, ttlSeconds: 600 }) };
    sessions.push(await WorkloadSession.start({ issuanceAddress: serviceAddress('issuance'), evidence, timeoutMs: 5_000, bootstrap }));
  }
  return { sessions, close: () => (sessions.forEach((session) => session.close()), bootstrap.close()) };
}

async function grantLogin(session: WorkloadSession, resource: string): Promise<{ grantId: string; login: Login }> {
  const response = await callUnary(session.client, session.client.requestGrant, { ...grantBody(`login-${run}`, resource), evidence: undefined }, { target: 'issuance' });
  const login = response.credential?.login;
  if (!login) throw new Error(`grant ${response.grant?.id} on ${resource} carries no login`);
  return { grantId: response.grant!.id, login };
}

/**
 * Revokes what a phase granted (16 at a time). Issuance destroys their logins in the background, so
 * the next phase runs during that mass revocation, as a busy resource would see it.
 */
async function revokeAll(revocation: RevocationServiceClient, grantIds: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < grantIds.length) {
      const grantId = grantIds[next++]!;
      await callUnary(revocation, revocation.revoke, { grantId, reason: 'npm run bench: phase over', requestedBy: 'bench', finalStatus: 0 }).catch(() => undefined);
    }
  }));
}

async function revokeToSessionEnded(sessions: WorkloadSession[], revocation: RevocationServiceClient, rounds: number): Promise<LoginGrantsResult['revokeToSessionEnded']> {
  const fromAcknowledgement: number[] = [];
  const fromRequest: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const { grantId, login } = await grantLogin(sessions[round % sessions.length]!, LOGIN_RESOURCES.postgresql);
    const client = new pg.Client({ host: login.host, port: login.port, user: login.user, password: login.password, database: login.database });
    const ended = new Promise<number>((resolve) => {
      client.on('error', () => resolve(performance.now()));
      client.on('end', () => resolve(performance.now()));
    });
    await client.connect();
    await client.query('SELECT 1');
    const requested = performance.now();
    await callUnary(revocation, revocation.revoke, { grantId, reason: 'npm run bench: revoke ends the session', requestedBy: 'bench', finalStatus: 0 });
    const acknowledged = performance.now();
    const endedAt = await Promise.race([ended, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`the session of grant ${grantId}'s login was still open 5 s after Revoke`)), 5_000))]);
    fromAcknowledgement.push(Math.max(0, endedAt - acknowledged));
    fromRequest.push(endedAt - requested);
    progress(`  revoke → session terminated: round ${round + 1}/${rounds}, ${(endedAt - requested).toFixed(1)} ms from sending Revoke`);
  }
  const result = { rounds, fromAcknowledgement: summarize(fromAcknowledgement), fromRequest: summarize(fromRequest) };
  endProgress(`  revoke → open PostgreSQL session terminated (${rounds} rounds): from the acknowledgement p50 ${result.fromAcknowledgement.p50} ms, p99 ${result.fromAcknowledgement.p99} ms; from sending Revoke p50 ${result.fromRequest.p50} ms, p99 ${result.fromRequest.p99} ms`);
  return result;
}

/** Makes 1,000 logins no grant backs (what crashes between "create user" and "commit" leave) and times the reconciler. */
async function reconcileThousand(reconcileIntervalMs: number): Promise<LoginGrantsResult['reconcile1000']> {
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: sqlDatabase });
  await admin.connect();
  try {
    for (let i = 0; i < 1000; i++) {
      const user = `mayfly_g_${randomUUID().replaceAll('-', '')}`;
      await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${randomBytes(16).toString('hex')}' IN ROLE ${sqlRole}`);
      if (i % 100 === 0) progress(`  reconcile: ${i}/1000 orphaned logins made`);
    }
  } finally {
    await admin.end();
  }
  const started = performance.now();
  let left = await livePostgresLogins();
  while (left > 0 && performance.now() - started < 120_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await livePostgresLogins();
    progress(`  reconcile: ${left} orphans left after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  endProgress(`  reconcile 1,000 orphaned PostgreSQL logins: all gone ${seconds} s after the last was made (passes every ${reconcileIntervalMs} ms; an orphan goes on its second unbacked pass); ${left} left`);
  return { orphans: 1000, seconds, reconcileIntervalMs, left };
}

export async function loginGrants(issuer: DevIssuer, timing: LoadTiming, options: { concurrency: readonly number[]; revocationRounds: number; reconcileIntervalMs: number }): Promise<LoginGrantsResult> {
  const dropSystems = await createSystems();
  const revocation = createClient(RevocationServiceClient, serviceAddress('revocation'), 'revocation');
  let sessions: Awaited<ReturnType<typeof startSessions>> | undefined;
  try {
    await registerResources();
    sessions = await startSessions(issuer);
    const grants: LoadPhase[] = [];
    for (const system of Object.keys(LOGIN_RESOURCES) as System[]) {
      for (const concurrency of options.concurrency) {
        const granted: string[] = [];
        const all = sessions.sessions;
        grants.push(await runLoad(`${system} login grants`, concurrency, timing, async (w, i) => {
          granted.push((await grantLogin(all[(w * 7 + i) % all.length]!, LOGIN_RESOURCES[system])).grantId);
        }));
        await revokeAll(revocation, granted);
      }
    }
    // The reaper destroys what the phases granted; wait for it so the next measurement stands alone.
    for (let waited = 0; (await livePostgresLogins()) > 0 && waited < 60_000; waited += 200) await new Promise((resolve) => setTimeout(resolve, 200));
    const revoked = await revokeToSessionEnded(sessions.sessions, revocation, options.revocationRounds);
    const reconcile1000 = await reconcileThousand(options.reconcileIntervalMs);
    return { grants, revokeToSessionEnded: revoked, reconcile1000 };
  } finally {
    sessions?.close();
    revocation.close();
    await removeResources();
    await dropSystems().catch((error: unknown) => process.stderr.write(`bench: could not drop the login bench's databases: ${(error as Error).message}\n`));
  }
}
