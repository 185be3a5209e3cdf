import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { readAuditChain, verifyAuditChain } from '@mayfly/audit-trail';
import { appendAuditEvents, createDatabase, migrateToLatest, type NewAuditEvent } from '@mayfly/db';
import { ensureDatabase } from '@mayfly/mesh';

// `npm run bench:audit`: what the tamper-evident chain costs. Appends BENCH_AUDIT_EVENTS audit
// records (default 100,000) through the audit service's own insert (batches of 500) into a fresh
// database — once with the database's chain trigger, once without — then reads the whole trail and
// verifies it as `mayfly audit verify` does. Needs the PostgreSQL of the README (owner access).

const ADMIN_URL = process.env['MAYFLY_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env['BENCH_AUDIT_EVENTS'] ?? '100000');
const BATCH = 500;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function event(n: number): NewAuditEvent {
  return {
    id: randomUUID(),
    occurred_at: new Date(),
    kind: n % 4 === 0 ? 'grant.requested' : n % 4 === 1 ? 'decision.made' : n % 4 === 2 ? 'grant.issued' : 'grant.completed',
    actor: `spiffe://bench.mayfly.local/ci/worker-${n % 32}`,
    source: 'issuance',
    grant_id: randomUUID(),
    task_id: `bench-task-${n}`,
    outcome: 'success',
    detail: JSON.stringify({ tokenId: randomUUID(), scope: 'read', policyVersion: 'bench', resource: 'pg:orders-db' }),
  };
}

async function append(url: string, chained: boolean): Promise<number> {
  const db = createDatabase({ url, maxConnections: 2 });
  try {
    await migrateToLatest(db, url);
    if (!chained) await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain`.execute(db);
    const started = performance.now();
    for (let n = 0; n < EVENTS; n += BATCH) await appendAuditEvents(db, Array.from({ length: Math.min(BATCH, EVENTS - n) }, (_, i) => event(n + i)));
    return EVENTS / ((performance.now() - started) / 1000);
  } finally {
    await db.destroy();
  }
}

async function verify(url: string): Promise<{ readSeconds: number; verifySeconds: number; problems: number }> {
  const db = createDatabase({ url, maxConnections: 1 });
  try {
    const started = performance.now();
    const { links, events } = await readAuditChain(db);
    const read = performance.now();
    const report = verifyAuditChain({ links, events, checkpoints: [] });
    return { readSeconds: (read - started) / 1000, verifySeconds: (performance.now() - read) / 1000, problems: report.problems.length };
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<void> {
  const stamp = Date.now().toString(36);
  const urls = ['chained', 'plain'].map((label) => Object.assign(new URL(ADMIN_URL), { pathname: `/mayfly_bench_audit_${label}_${stamp}` }).toString());
  const admin = createDatabase({ url: ADMIN_URL, maxConnections: 1 });
  try {
    for (const url of urls) await ensureDatabase(url);
    say(`audit chain benchmark: ${EVENTS} events in batches of ${BATCH}; ${cpus().length} CPUs, Node ${process.version}`);
    const plain = await append(urls[1]!, false);
    say(`  append without the chain: ${Math.round(plain)} events/s`);
    const chained = await append(urls[0]!, true);
    say(`  append with the chain:    ${Math.round(chained)} events/s (${Math.round((100 * chained) / plain)}% of plain)`);
    const verified = await verify(urls[0]!);
    const total = verified.readSeconds + verified.verifySeconds;
    say(`  audit verify: ${Math.round(EVENTS / total)} records/s end to end (reading ${verified.readSeconds.toFixed(2)} s, checking ${verified.verifySeconds.toFixed(2)} s = ${Math.round(EVENTS / verified.verifySeconds)} records/s), ${verified.problems} problems`);
    const dir = resolve('bench/results');
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `audit-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ events: EVENTS, batch: BATCH, cpus: cpus().length, node: process.version, appendPlainPerSecond: plain, appendChainedPerSecond: chained, ...verified }, null, 2)}\n`);
    say(`results written to ${file}`);
  } finally {
    for (const url of urls) await sql.raw(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`).execute(admin);
    await admin.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:audit: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
