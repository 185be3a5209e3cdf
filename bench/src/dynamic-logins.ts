/**
 * Dynamic logins (issue 22), measured at the connector — the part a login grant adds to a grant:
 * make a login per grant (serial and 16 callers) in PostgreSQL, MariaDB and Redis; destroy one with
 * a session open, until that session is gone; and reconcile 1,000 PostgreSQL logins no grant backs.
 * Run: npm run bench:logins (BENCH_SECONDS, BENCH_WARMUP_SECONDS as for npm run bench).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DynamicLoginKind } from '@mayfly/connectors';
import { MariadbLogins } from '@mayfly/connectors/mariadb';
import { PostgresqlLogins } from '@mayfly/connectors/postgresql';
import { RedisLogins } from '@mayfly/connectors/redis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { runLoad, type LoadPhase } from './load.js';
import { summarize } from './stats.js';

const timing = { seconds: Number(process.env['BENCH_SECONDS'] ?? 5), warmupSeconds: Number(process.env['BENCH_WARMUP_SECONDS'] ?? 1) };
const run = randomBytes(4).toString('hex');
const pgDatabase = `mayfly_bench_logins_${run}`;
const pgRole = `bench_reader_${run}`;
const myDatabase = `mayfly_bench_logins_${run}`;
const myRole = `bench_reader_${run}`;

async function asPostgres(database: string, sql: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const line = (phase: LoadPhase) => `${phase.name} c=${phase.concurrency}: ${phase.throughputPerSecond.toFixed(0)}/s, p50 ${phase.p50} ms, p99 ${phase.p99} ms, ${phase.errors} errors (${phase.count} in ${phase.seconds}s)`;

async function issueLoad(name: string, logins: DynamicLoginKind, concurrency: number): Promise<LoadPhase> {
  const made: string[] = [];
  const phase = await runLoad(name, concurrency, timing, async () => {
    const grantId = randomUUID();
    made.push(grantId);
    await logins.issue({ grantId, actions: ['read'], expiresAt: new Date(Date.now() + 600_000) });
  });
  for (const grantId of made) await logins.destroy(grantId).catch(() => undefined);
  return phase;
}

/** Destroy with a PostgreSQL session open: from the call until the session has ended. */
async function destroyWithOpenSession(logins: PostgresqlLogins, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const grantId = randomUUID();
    const login = await logins.issue({ grantId, actions: ['read'], expiresAt: new Date(Date.now() + 600_000) });
    const session = new pg.Client({ host: login.host, port: login.port, user: login.user, password: login.password, database: login.database });
    const ended = new Promise<number>((resolve) => {
      session.on('error', () => resolve(performance.now()));
      session.on('end', () => resolve(performance.now()));
    });
    await session.connect();
    await session.query('SELECT 1');
    const started = performance.now();
    await logins.destroy(grantId);
    samples.push((await ended) - started);
  }
  return samples;
}

async function main(): Promise<void> {
  console.log(`Dynamic logins: ${timing.seconds}s per level after ${timing.warmupSeconds}s warm-up, at the connector (no mesh)`);
  await asPostgres('postgres', `CREATE DATABASE ${pgDatabase}`);
  await asPostgres(pgDatabase, `CREATE ROLE ${pgRole} NOLOGIN`);
  const root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', charset: 'UTF8MB4_GENERAL_CI' });
  await root.query(`CREATE DATABASE ${myDatabase}`);
  await root.query(`CREATE ROLE ${myRole}`);
  await root.query(`GRANT SELECT ON ${myDatabase}.* TO ${myRole}`);
  const postgres = new PostgresqlLogins({ name: 'pg:bench', adminUrl: `postgres://postgres@127.0.0.1:5432/${pgDatabase}`, host: '127.0.0.1', port: 5432, database: pgDatabase, actions: { read: [pgRole] } });
  const mariadb = new MariadbLogins({ name: 'mariadb:bench', admin: { host: '127.0.0.1', port: 3306, user: 'root', password: '' }, host: '127.0.0.1', port: 3306, database: myDatabase, actions: { read: [myRole] } });
  const redis = new RedisLogins({ name: 'redis:bench', adminUrl: 'redis://127.0.0.1:6379', host: '127.0.0.1', port: 6379, actions: { read: [`~bench-${run}:*`, '+get'] } });
  const results: Record<string, unknown> = {};
  try {
    for (const [system, logins] of [['postgresql', postgres], ['mariadb', mariadb], ['redis', redis]] as const) {
      for (const concurrency of [1, 16]) {
        const phase = await issueLoad(`${system} login`, logins, concurrency);
        console.log(`  ${line(phase)}`);
        results[`${system}-c${concurrency}`] = phase;
      }
    }
    const destroyMs = summarize(await destroyWithOpenSession(postgres, 50));
    console.log(`  postgresql destroy → open session ended (50 rounds): p50 ${destroyMs.p50} ms, p99 ${destroyMs.p99} ms`);
    results['postgresql-destroy-open-session'] = destroyMs;

    const thousand = Array.from({ length: 1000 }, () => randomUUID());
    const made = performance.now();
    for (const grantId of thousand) await postgres.issue({ grantId, actions: ['read'], expiresAt: new Date(Date.now() + 600_000) });
    const madeMs = performance.now() - made;
    const reconciled = performance.now();
    const live = await postgres.listLive();
    for (const grantId of live) await postgres.destroy(grantId);
    const reconcileMs = performance.now() - reconciled;
    console.log(`  postgresql: 1,000 logins made in ${(madeMs / 1000).toFixed(1)} s; listed and destroyed (a reconciler pass over 1,000 orphans) in ${(reconcileMs / 1000).toFixed(1)} s; ${(await postgres.listLive()).length} left`);
    results['postgresql-reconcile-1000'] = { madeMs, reconcileMs, listed: live.length };
    const serial = results['postgresql-c1'] as LoadPhase;
    console.log(`targets:\n  ${serial.p50 <= 15 ? 'met    ' : 'NOT MET'}  PostgreSQL login p50 ${serial.p50} ms (≤ 15 ms serial; the connector's part of a grant)\n  ${destroyMs.p99 <= 100 ? 'met    ' : 'NOT MET'}  destroy → open session ended p99 ${destroyMs.p99} ms (≤ 100 ms)`);
    const file = join('bench', 'results', `logins-${new Date().toISOString().replaceAll(':', '-').replace('.', '-')}.json`);
    writeFileSync(file, JSON.stringify({ timing, results }, null, 2));
    console.log(`results written to ${file}`);
  } finally {
    for (const logins of [postgres, mariadb, redis]) {
      for (const grantId of await logins.listLive().catch(() => [])) await logins.destroy(grantId).catch(() => undefined);
      await logins.close();
    }
    await root.query(`DROP DATABASE IF EXISTS ${myDatabase}`);
    await root.query(`DROP ROLE IF EXISTS ${myRole}`);
    await root.end();
    await asPostgres('postgres', `DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
    await asPostgres('postgres', `DROP ROLE IF EXISTS ${pgRole}`);
  }
}

main().catch((error: unknown) => {
  console.error('bench:logins:', error);
  process.exitCode = 1;
});
