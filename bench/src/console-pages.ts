import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { chromium } from 'playwright-core';
import { Agent, request } from 'undici';
import { createDatabase, dropServiceRoles, upsertWorkload } from '@mayfly/db';
import { approverEnv, devPeopleIssuer, ensureDatabase, startConsoleWithDevProvider, startMesh } from '@mayfly/mesh';
import { summarize, type LatencySummary } from './stats.js';

// Issue 25, point 6: the console's grants and audit pages, paged on the server, with 100,000
// grants (and their ~300,000 audit events) in the database. A real mesh and console; one person
// signed in through the development provider in chromium; then each page fetched over HTTPS as
// that person, timed from the request to the last byte of the HTML.
//   npm run bench:console            (BENCH_CONSOLE_GRANTS, BENCH_CONSOLE_ROUNDS to change the size)

const ADMIN_URL = process.env['MAYFLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const GRANTS = Number(process.env['BENCH_CONSOLE_GRANTS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_CONSOLE_ROUNDS'] ?? 30);
const DEEP_PAGES = 40;
const WORKLOADS = 50;
const TARGET_MS = 200;

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** 100,000 grants over 50 workloads and 10 resources, one a second back from now, mostly ended; three audit events each. */
async function seed(databaseUrl: string): Promise<void> {
  const db = createDatabase({ url: databaseUrl, maxConnections: 1 });
  try {
    const started = performance.now();
    const base = new Date();
    for (let w = 0; w < WORKLOADS; w += 1) {
      await upsertWorkload(db, {
        spiffeId: `spiffe://bench.mayfly.local/team-${w}/job`,
        ownerTeam: `team-${w}`,
        ownerContact: `team-${w}@example.com`,
        environment: 'dev',
        riskTier: 'low',
        ceiling: Array.from({ length: 10 }, (_, r) => ({ resource: `pg:db-${r}`, actions: ['read'] })),
      });
    }
    await sql`
      INSERT INTO grants (id, spiffe_id, task_id, task_kind, task_reference, resource, actions, status, token_id, policy_ids, policy_version,
                          issued_at, expires_at, ended_at, end_reason, renewable_until, token_lifetime_seconds)
      SELECT gen_random_uuid(), 'spiffe://bench.mayfly.local/team-' || (i % ${WORKLOADS}) || '/job', 'task-' || i, 'ci-job', 'JOB-' || i,
             'pg:db-' || (i % 10), ARRAY['read'], CASE WHEN i <= 500 THEN 'active' WHEN i % 100 = 0 THEN 'revoked' ELSE 'expired' END,
             gen_random_uuid(), ARRAY['ci-reads'], 'bench',
             ${base}::timestamptz - make_interval(secs => i), ${base}::timestamptz - make_interval(secs => i) + interval '10 minutes',
             CASE WHEN i <= 500 THEN NULL ELSE ${base}::timestamptz - make_interval(secs => i) + interval '5 minutes' END,
             CASE WHEN i <= 500 THEN NULL WHEN i % 100 = 0 THEN 'bench revocation' ELSE 'expired' END,
             ${base}::timestamptz - make_interval(secs => i) + interval '1 hour', 300
      FROM generate_series(1, ${GRANTS}) AS i`.execute(db);
    say(`seeded ${GRANTS} grants in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // Their audit events, through the chain trigger (one chaining per statement), oldest first as the log would have them.
    const chunk = 20_000;
    for (let from = GRANTS; from >= 1; from -= chunk) {
      const to = Math.max(1, from - chunk + 1);
      await sql`
        INSERT INTO audit_events (id, occurred_at, kind, actor, source, grant_id, task_id, outcome, detail)
        SELECT gen_random_uuid(), g.issued_at + make_interval(secs => k.n * 0.001), k.kind, g.spiffe_id, 'issuance', g.id, g.task_id, 'success',
               jsonb_build_object('resource', g.resource, 'actions', g.actions)
        FROM grants g CROSS JOIN (VALUES (0, 'grant.requested'), (1, 'decision.made'), (2, 'grant.issued')) AS k(n, kind)
        WHERE g.issued_at >= ${base}::timestamptz - make_interval(secs => ${from}::int) AND g.issued_at <= ${base}::timestamptz - make_interval(secs => ${to}::int)
        ORDER BY g.issued_at, k.n`.execute(db);
    }
    await sql`ANALYZE grants`.execute(db);
    await sql`ANALYZE audit_events`.execute(db);
    say(`seeded ${GRANTS * 3} audit events; ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
  } finally {
    await db.destroy();
  }
}

/** Signs alice in through the provider in chromium; returns her session cookie. */
async function signIn(consoleUrl: string): Promise<string> {
  const browser = await chromium.launch({ executablePath: process.env['MAYFLY_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${consoleUrl}/approvals`);
    await page.click('a.button');
    await page.fill('input[name=login]', 'alice@example.com');
    await page.click('button[type=submit]');
    await page.waitForURL(`${consoleUrl}/approvals`);
    const cookie = (await context.cookies(consoleUrl)).find((c) => c.name === '__Host-mayfly-session');
    if (!cookie) throw new Error('no session cookie after sign-in');
    return `${cookie.name}=${cookie.value}`;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const id = `console_bench_${Date.now().toString(36)}`;
  const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/mayfly_${id}` }).toString();
  const stateDir = mkdtempSync(join(tmpdir(), 'mayfly-console-bench-'));
  await ensureDatabase(databaseUrl);
  const people = await devPeopleIssuer();
  const stream = { stream: `MAYFLY_${id.toUpperCase()}`, subjectPrefix: `mayfly.${id}` };
  const rolePrefix = `mayfly_${id}_`;
  const mesh = await startMesh({
    databaseUrl,
    natsUrl: NATS_URL,
    ports: 'free',
    revocationStream: stream,
    auditHeadStream: { stream: `${stream.stream}_AUDIT_HEAD`, subject: `${stream.subjectPrefix}-audit.head` },
    databaseRolePrefix: rolePrefix,
    pkiDir: join(stateDir, 'pki'),
    env: { MAYFLY_LOG_LEVEL: 'warn', ...approverEnv(people) },
  });
  const web = await startConsoleWithDevProvider({ mesh, pkiDir: join(stateDir, 'pki'), people, ports: 'free' });
  const agent = new Agent({ connect: { rejectUnauthorized: false }, keepAliveTimeout: 30_000 });
  const results: Record<string, LatencySummary & { bytes: number; rows: number }> = {};
  try {
    await seed(databaseUrl);
    const cookie = await signIn(web.url);
    const get = async (path: string): Promise<{ ms: number; body: string }> => {
      const started = performance.now();
      const response = await request(`${web.url}${path}`, { dispatcher: agent, headers: { cookie } });
      const body = await response.body.text();
      const ms = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${body.slice(0, 300)}`);
      return { ms, body };
    };
    const nextOf = (body: string): string | undefined => /<a rel="next" href="([^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, '&');
    const rowsOf = (body: string): number => (body.match(/<tr data-(grant|sequence)=/g) ?? []).length;

    /** One page, fetched ROUNDS times after two warm-ups. */
    const measure = async (name: string, path: string): Promise<void> => {
      await get(path);
      await get(path);
      const samples: number[] = [];
      let last = '';
      for (let round = 0; round < ROUNDS; round += 1) {
        const { ms, body } = await get(path);
        samples.push(ms);
        last = body;
      }
      results[name] = { ...summarize(samples), bytes: Buffer.byteLength(last), rows: rowsOf(last) };
      say(`${name.padEnd(34)} p50 ${results[name]!.p50.toFixed(1)} ms  p95 ${results[name]!.p95.toFixed(1)} ms  max ${results[name]!.max.toFixed(1)} ms  (${results[name]!.rows} rows)`);
    };
    /** Following "older" links DEEP_PAGES times from `path`: each page timed once. */
    const walk = async (name: string, path: string): Promise<void> => {
      const samples: number[] = [];
      let next: string | undefined = path;
      let last = '';
      for (let page = 0; page < DEEP_PAGES && next; page += 1) {
        const { ms, body } = await get(next);
        samples.push(ms);
        last = body;
        next = nextOf(body);
      }
      results[name] = { ...summarize(samples), bytes: Buffer.byteLength(last), rows: rowsOf(last) };
      say(`${name.padEnd(34)} p50 ${results[name]!.p50.toFixed(1)} ms  p95 ${results[name]!.p95.toFixed(1)} ms  max ${results[name]!.max.toFixed(1)} ms  (${samples.length} pages)`);
    };

    const workload = 'spiffe://bench.mayfly.local/team-7/job';
    await measure('grants, first page', '/grants');
    await measure('grants, status=active', '/grants?status=active');
    await measure('grants, one workload', `/grants?workload=${encodeURIComponent(workload)}`);
    await measure('grants, one resource', '/grants?resource=pg%3Adb-3');
    await walk(`grants, ${DEEP_PAGES} pages deep`, '/grants');
    await measure('audit, first page', '/audit');
    const grantId = /data-grant="([0-9a-f-]{36})"/.exec((await get('/grants?resource=pg%3Adb-3')).body)![1]!;
    await measure('audit, one grant', `/audit?grant=${grantId}`);
    await measure('audit, one kind', '/audit?kind=grant.issued');
    await walk(`audit, ${DEEP_PAGES} pages deep`, '/audit');

    const verdicts = Object.fromEntries(Object.entries(results).map(([name, summary]) => [name, { p95: summary.p95, met: summary.p95 <= TARGET_MS }]));
    const out = { at: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, grants: GRANTS, auditEvents: GRANTS * 3, rounds: ROUNDS, targetMs: TARGET_MS, results, verdicts };
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/console-pages-${out.at.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    say(`every page under ${TARGET_MS} ms at p95: ${Object.values(verdicts).every((v) => v.met) ? 'MET' : 'NOT MET'} → ${file}`);
  } finally {
    await agent.close();
    await web.stop();
    await mesh.stop();
    const admin = createDatabase({ url: ADMIN_URL, maxConnections: 1 });
    await sql`DROP DATABASE IF EXISTS ${sql.id(`mayfly_${id}`)} WITH (FORCE)`.execute(admin).catch(() => undefined);
    await dropServiceRoles(admin, rolePrefix).catch(() => undefined);
    await admin.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
