/**
 * What the grant path's hot statements cost PostgreSQL, sent unnamed (parsed and planned on every
 * run, as kysely sends statements) against prepared once per connection (PreparedStatement in
 * libs/db, issue 24). One connection each way, rounds alternated, each round a fresh set of rows:
 * the backend's CPU time from /proc/<pid>/stat per statement, and the wall time a caller waits.
 * Run: npm run bench:statements (BENCH_STATEMENT_ROUNDS, BENCH_STATEMENTS_PER_ROUND).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { newId } from '@mayfly/core';
import {
  appendAuditEvents,
  createDatabase,
  insertGrantsWithAuditOutbox,
  migrateToLatest,
  removeDeliveredAudit,
  upsertWorkload,
  type Database,
  type GrantRecord,
  type GrantWithAuditEntries,
  type NewAuditEvent,
} from '@mayfly/db';

const SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;
const WORKLOAD = 'spiffe://example.org/bench/statement-cost';
const rounds = Number(process.env['BENCH_STATEMENT_ROUNDS'] ?? 6);
const perRound = Number(process.env['BENCH_STATEMENTS_PER_ROUND'] ?? 400);
const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

async function asPostgres(statement: string): Promise<void> {
  const client = new pg.Client({ ...SERVER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** CPU milliseconds a process has used (user + system). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

function grant(): GrantRecord {
  const now = Date.now();
  return {
    id: newId(), spiffe_id: WORKLOAD, task_id: `task-${newId()}`, task_kind: 'bench', task_reference: '', task_deadline: null,
    resource: 'svc:orders', actions: ['read'], status: 'active', token_id: newId(), policy_ids: ['bench'], policy_version: 'v1',
    issued_at: new Date(now), expires_at: new Date(now + 300_000), ended_at: null, end_reason: null, renewable_until: new Date(now + 300_000),
    token_lifetime_seconds: 300, renewals: 0, idempotency_key: null, request_digest: null, token_reissue: null,
    heartbeat_interval_seconds: null, last_heartbeat_at: null, single_use: false, consumed_at: null, parent_grant_id: null,
    ancestor_grant_ids: [], delegators: [], break_glass: false, review_groups: [],
  };
}

const grantBatch = (size: number): GrantWithAuditEntries[] =>
  Array.from({ length: size }, () => ({ grant: grant(), entries: [{ id: newId(), payload: randomBytes(600) }] }));

/** A session grant's `grant.issued` detail as issuance records it (read from a bench run's database, 705 bytes as JSON). */
const issuedDetail = () => ({
  via: 'session', effect: 'allow', format: 'jwt-access-token', scopes: ['read'], boundTo: 'PE-uUPdCmcjb2HvrfAbpupygCk2bdiivBNO3E_keyD0',
  reasons: ['permitted by dev-low-risk-task-access'], tokenId: newId(), resource: 'pg:bench-logins', taskKind: 'bench',
  expiresAt: '2026-12-06T01:09:43.000Z', policyIds: ['dev-low-risk-task-access'], svidSerial: '7cb63b3d23ad7d5b8703526826e89ae2',
  requestedAt: '2026-12-06T01:08:43.235Z', policyVersion: '390205c749805570', taskReference: '', renewableUntil: '2026-12-06T03:08:43.000Z',
  policySetVersion: 1, requestedTtlSeconds: 60, certificateThumbprint: 'PE-uUPdCmcjb2HvrfAbpupygCk2bdiivBNO3E_keyD0',
});

const auditEvents = (size: number): NewAuditEvent[] =>
  Array.from({ length: size }, () => ({
    id: newId(), occurred_at: new Date(), kind: 'grant.issued', actor: WORKLOAD, source: 'issuance', grant_id: newId(),
    task_id: `task-${newId()}`, outcome: 'success', detail: JSON.stringify(issuedDetail()),
  }));

interface Measured { readonly backendCpuUs: number; readonly wallUs: number }

async function measure(db: Kysely<Database>, calls: readonly ((db: Kysely<Database>) => Promise<unknown>)[]): Promise<Measured> {
  return db.connection().execute(async (connection) => {
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(connection);
    const pid = rows[0]!.pid;
    const cpu0 = cpuMs(pid);
    const wall0 = performance.now();
    for (const call of calls) await call(connection);
    const wall = performance.now() - wall0;
    return { backendCpuUs: ((cpuMs(pid) - cpu0) / calls.length) * 1000, wallUs: (wall / calls.length) * 1000 };
  });
}

async function main(): Promise<void> {
  const name = `mayfly_bench_statements_${randomBytes(4).toString('hex')}`;
  await asPostgres(`CREATE DATABASE ${name}`);
  const url = `postgres://postgres@${SERVER.host}:${SERVER.port}/${name}`;
  // createDatabase's pool sends PreparedStatements by name; a bare pool sends the same text unnamed.
  const prepared = createDatabase({ url, maxConnections: 1 });
  const unnamed = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
  try {
    await migrateToLatest(prepared, url, false);
    await upsertWorkload(prepared, { spiffeId: WORKLOAD, ownerTeam: 'bench', ownerContact: 'bench@example.org', environment: 'dev', riskTier: 'low', ceiling: [{ resource: 'svc:orders', actions: ['read'] }] });
    const shapes: { label: string; calls: () => ((db: Kysely<Database>) => Promise<unknown>)[] }[] = [
      { label: 'group commit, 1 grant', calls: () => Array.from({ length: perRound }, () => grantBatch(1)).map((batch) => (db) => insertGrantsWithAuditOutbox(db, 'issuance', batch)) },
      { label: 'group commit, 8 grants', calls: () => Array.from({ length: perRound }, () => grantBatch(8)).map((batch) => (db) => insertGrantsWithAuditOutbox(db, 'issuance', batch)) },
      { label: 'audit append, 1 event', calls: () => Array.from({ length: perRound }, () => auditEvents(1)).map((events) => (db) => appendAuditEvents(db, events)) },
      { label: 'audit append, 32 events', calls: () => Array.from({ length: perRound }, () => auditEvents(32)).map((events) => (db) => appendAuditEvents(db, events)) },
      {
        label: 'outbox removal, 32 ids', // ids not present: the lookups and the plan, no rows
        calls: () => Array.from({ length: perRound }, () => Array.from({ length: 32 }, () => newId())).map((ids) => (db) => removeDeliveredAudit(db, ids)),
      },
    ];
    console.log(`PostgreSQL CPU and caller wall time per statement, unnamed vs prepared; ${rounds} alternated rounds of ${perRound} statements`);
    const results: Record<string, { unnamed: Measured[]; prepared: Measured[] }> = {};
    for (const shape of shapes) {
      const result = (results[shape.label] = { unnamed: [] as Measured[], prepared: [] as Measured[] });
      for (let round = 0; round < rounds; round++) {
        const way = round % 2 === 0 ? 'unnamed' : 'prepared';
        result[way].push(await measure(way === 'unnamed' ? unnamed : prepared, shape.calls()));
      }
      const show = (all: Measured[]) => all.map((m) => `${m.backendCpuUs.toFixed(0)}/${m.wallUs.toFixed(0)}`).join(', ');
      console.log(`  ${shape.label.padEnd(25)} unnamed ${show(result.unnamed)} µs (CPU/wall); prepared ${show(result.prepared)} µs`);
    }
    console.log(JSON.stringify({ rounds, perRound, results }));
  } finally {
    await unnamed.destroy();
    await prepared.destroy();
    await asPostgres(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

await main();
