import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertWorkload } from '@mayfly/db';
import { callUnary, createClient } from '@mayfly/grpc';
import { SERVICE_NAMES } from '@mayfly/config';
import { createCertificateAuthority, issueClientCertificate } from '@mayfly/pki';
import { RegistryServiceClient, ResourceKind } from '@mayfly/proto';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

/**
 * Issue 26, point 2: `mayfly agent` as a real process beside a real command, against a real
 * mesh: it keeps a token file fresh across renewals (signalling the command each time), rides
 * out the whole mesh restarting, and on SIGTERM stops the command, ends its grants and removes
 * its files. Then the README's shell example reads a PostgreSQL login from the agent's files.
 */
const CLI = resolve('libs/cli/dist/main.js');
const run = randomBytes(3).toString('hex');
let t: TestMesh;
let dir: string;
let evidenceFile: string;
let refreshEvidence: NodeJS.Timeout;

/** A workload's command: records its start environment, every SIGHUP, and its SIGTERM. */
const COMMAND = `
const fs = require('node:fs');
const log = (line) => fs.appendFileSync(process.env.COMMAND_LOG, line + '\\n');
log('start ' + process.env.MAYFLY_ORDERS_TOKEN.length + ' ' + process.env.MAYFLY_ORDERS_TOKEN.slice(-12));
process.on('SIGHUP', () => log('hup'));
process.on('SIGTERM', () => { log('term'); process.exit(0); });
setInterval(() => {}, 1000);
`;

function writeConfig(name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

function startAgent(config: string, extraEnv: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv, MAYFLY_LOG_LEVEL: 'info' };
  // A workload has no mesh identity of its own: only the CA (from the config).
  delete env['MAYFLY_TLS_CERT_FILE'];
  delete env['MAYFLY_TLS_KEY_FILE'];
  const child = spawn(process.execPath, [CLI, 'agent', 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => text, exited };
}

const readyz = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
  return response ? { status: response.status, body: (await response.json()) as { grants: { ready: boolean; grantId?: string }[] } } : undefined;
};
const healthPortOf = (output: string) => Number(/"port":(\d+)[^\n]*health endpoint/.exec(output)?.[1] ?? NaN);

beforeAll(async () => {
  t = await startTestMesh('agent');
  dir = mkdtempSync(join(tmpdir(), 'mayfly-agent-'));
  evidenceFile = join(dir, 'evidence', 'token');
  // As kubelet does: the projected token is replaced while it ages (evidence is single-use here).
  const refresh = async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'evidence'), { recursive: true });
    writeFileSync(evidenceFile, await t.evidence(DEV.subject));
  };
  await refresh();
  refreshEvidence = setInterval(() => void refresh(), 1_000);
}, 120_000);

afterAll(async () => {
  clearInterval(refreshEvidence);
  await t?.close();
});

const commonConfig = () => `
issuance: ${t.mesh.addresses.issuance}
caFile: ${join(t.pkiDir, 'ca.pem')}
trustDomain: ${t.mesh.env['MAYFLY_TRUST_DOMAIN']}
evidence:
  kind: oidc-token
  file: ${evidenceFile}
health:
  port: 0
`;

/** One grant whose 3-second tokens renew often, written to `tokenFile`, and the recording command told of each rotation. */
const renewingGrantWithCommand = (tokenFile: string, onRotate: 'signal' | 'restart') => `grants:
  - name: orders
    resource: ${RESOURCE}
    actions: [read]
    ttlSeconds: 3
    files:
      token: ${tokenFile}
exec:
  command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(COMMAND)}]
  onRotate: ${onRotate}
  signal: SIGHUP`;

describe('46 mayfly agent', () => {
  it('keeps a token file fresh across three renewals, signalling the command each time; rides out the mesh restarting; SIGTERM ends it all', async () => {
    const tokenFile = join(dir, 'run', 'orders.token');
    const commandLog = join(dir, 'command.log');
    const config = writeConfig(
      'renewals',
      `${commonConfig()}
task:
  id: agent-e2e-${run}
  kind: service
${renewingGrantWithCommand(tokenFile, 'signal')}
metrics:
  port: 0
`,
    );
    const agent = startAgent(config, { COMMAND_LOG: commandLog });
    try {
      await eventually(async () => existsSync(tokenFile), 15_000, 50);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const first = readFileSync(tokenFile, 'utf8').trim();
      const firstClaims = decodeJwt(first);
      expect(firstClaims).toMatchObject({ sub: DEV.spiffeId, aud: RESOURCE, scope: 'read' });
      // Bound to the agent's session certificate: the session is held, not evidence per grant.
      expect(firstClaims['cnf']).toBeDefined();
      await eventually(async () => existsSync(commandLog) && readFileSync(commandLog, 'utf8').startsWith(`start ${first.length} ${first.slice(-12)}`), 10_000);

      // Three renewals: the file holds each new token in turn, the same grant, a later expiry; the command hears of each.
      const seen = [first];
      await eventually(async () => {
        const now = readFileSync(tokenFile, 'utf8').trim();
        if (now !== seen.at(-1)) seen.push(now);
        return seen.length >= 4;
      }, 20_000, 50);
      const claims = seen.map((token) => decodeJwt(token));
      expect(new Set(claims.map((c) => c.jti)).size).toBe(claims.length);
      expect(new Set(claims.map((c) => c['grant_id'])).size).toBe(1); // renewed, not re-granted
      for (let i = 1; i < claims.length; i++) expect(claims[i]!.exp!).toBeGreaterThan(claims[i - 1]!.exp!);
      const grantIds = new Set((await t.db.selectFrom('grants').select('id').where('task_id', '=', `agent-e2e-${run}`).execute()).map((g) => g.id));
      expect(grantIds.size).toBe(1); // renewed, not re-granted
      await eventually(async () => readFileSync(commandLog, 'utf8').split('\n').filter((l) => l === 'hup').length >= 3, 5_000);

      // Its Prometheus endpoint, like the services': the grant held, its renewals counted.
      const metricsPort = Number(/"port":(\d+)[^\n]*metrics: \/metrics/.exec(agent.output())?.[1] ?? NaN);
      const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(scraped).toMatch(/mayfly_agent_grant_ready\{[^}]*grant="orders"[^}]*\} 1/);
      expect(Number(/mayfly_agent_renewals\{[^}]*\} (\d+)/.exec(scraped)?.[1])).toBeGreaterThanOrEqual(3);

      // The whole mesh restarts: the agent keeps going and the file is fresh again after.
      const port = healthPortOf(agent.output());
      expect((await readyz(port))?.status).toBe(200);
      for (const service of SERVICE_NAMES) await t.mesh.stopService(service, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 4_000)); // longer than a token lives
      await eventually(async () => (await readyz(port))?.status === 503, 5_000, 100);
      for (const service of SERVICE_NAMES) await t.mesh.startService(service);
      const beforeRecovery = readFileSync(tokenFile, 'utf8').trim();
      await eventually(async () => readFileSync(tokenFile, 'utf8').trim() !== beforeRecovery && (await readyz(port))?.status === 200, 45_000, 100);
      const recovered = decodeJwt(readFileSync(tokenFile, 'utf8').trim());
      expect(recovered.exp! * 1000).toBeGreaterThan(Date.now());

      // SIGTERM: the command is stopped, every grant of the task ends, the file is removed.
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      expect(existsSync(tokenFile)).toBe(false);
      expect(readFileSync(commandLog, 'utf8')).toContain('term');
      // Two grants: the one lost while the mesh was away (its last token expired; the reaper marks
      // it in its own time) and the one held at SIGTERM, which the agent completed.
      const grants = await t.db.selectFrom('grants').select(['id', 'status', 'expires_at']).where('task_id', '=', `agent-e2e-${run}`).orderBy('issued_at').execute();
      expect(grants).toHaveLength(2);
      expect(grants[1]!.status).toBe('completed');
      expect(grants.filter((g) => g.status === 'active' && g.expires_at.getTime() > Date.now())).toEqual([]);
      expect(agent.output()).toContain('grant released');
    } finally {
      agent.child.kill('SIGKILL');
    }
  }, 120_000);

  it('onRotate: restart starts the command again with the renewed token in its environment', async () => {
    const commandLog = join(dir, 'restart.log');
    const config = writeConfig(
      'restart',
      `${commonConfig()}
${renewingGrantWithCommand(join(dir, 'restart', 'orders.token'), 'restart')}
`,
    );
    const agent = startAgent(config, { COMMAND_LOG: commandLog });
    try {
      const starts = () => (existsSync(commandLog) ? readFileSync(commandLog, 'utf8').split('\n').filter((line) => line.startsWith('start ')) : []);
      await eventually(async () => new Set(starts()).size >= 3, 20_000, 100);
      // Each start saw a different token, and the one before it was stopped with SIGTERM first.
      expect(new Set(starts()).size).toBe(starts().length);
      const lines = readFileSync(commandLog, 'utf8').trim().split('\n');
      expect(lines.slice(0, 4)).toEqual([starts()[0], 'term', starts()[1], 'term']);
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
    } finally {
      agent.child.kill('SIGKILL');
    }
  }, 60_000);

  it("writes a PostgreSQL login as DSN, .pgpass and env files that the README's psql example uses", async () => {
    const database = `mayfly_agent_${run}`;
    const reader = `agent_reader_${run}`;
    const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`CREATE ROLE ${reader} NOLOGIN`);
    const owner = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
    await owner.connect();
    await owner.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric)');
    await owner.query('INSERT INTO orders VALUES (1, 42)');
    await owner.query(`GRANT SELECT ON orders TO ${reader}`);
    await owner.end();
    const adminFile = join(dir, 'pg-admin-url');
    writeFileSync(adminFile, `postgres://postgres@127.0.0.1:5432/${database}`, { mode: 0o600 });
    const registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
    const loginResource = `pg:agent-${run}`;
    await callUnary(registry, registry.putResource, {
      resource: { name: loginResource, kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, host: '127.0.0.1', port: 5432, database, adminCredentialFile: adminFile, actions: { read: { grants: [reader] } }, connectionLimit: 2, updatedBy: '', updatedAt: undefined },
      reason: 'e2e 46',
    });
    registry.close();
    await upsertWorkload(t.db, { spiffeId: DEV.spiffeId, ownerTeam: 'ci', ownerContact: 'ci@example.com', environment: 'dev', riskTier: 'low', ceiling: [{ resource: RESOURCE, actions: ['read', 'write'] }, { resource: loginResource, actions: ['read'] }] });

    const files = { dsn: join(dir, 'db', 'orders.dsn'), pgpass: join(dir, 'db', '.pgpass'), env: join(dir, 'db', 'orders.env') };
    const config = writeConfig(
      'login',
      `${commonConfig()}
grants:
  - name: orders
    resource: ${loginResource}
    actions: [read]
    ttlSeconds: 60
    files:
      dsn: ${files.dsn}
      pgpass: ${files.pgpass}
      env: ${files.env}
`,
    );
    const agent = startAgent(config);
    try {
      await eventually(async () => existsSync(files.env), 20_000, 100);
      for (const file of Object.values(files)) expect(statSync(file).mode & 0o777).toBe(0o600);
      // The README's shell example, as written there: psql with the agent's files, no password on the command line.
      const example = resolve('examples/agent/orders-report.sh');
      const { stdout } = await promisify(execFile)('sh', [example], { env: { ...process.env, MAYFLY_AGENT_DIR: join(dir, 'db') } });
      expect(stdout.trim()).toBe('42');
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      for (const file of Object.values(files)) expect(existsSync(file)).toBe(false);
    } finally {
      agent.child.kill('SIGKILL');
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      const { rows } = await admin.query<{ rolname: string }>(
        "SELECT login.rolname FROM pg_roles login JOIN pg_auth_members m ON m.member = login.oid JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1",
        [reader],
      );
      for (const row of rows) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(row.rolname)}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${reader}`);
      await admin.end();
    }
  }, 90_000);

  it("x509 evidence: a machine certificate from the organisation's PKI and its key, signed into a fresh assertion at each attestation", async () => {
    const root = await createCertificateAuthority({ name: 'CN=Agent Corp Root CA' });
    const machine = await issueClientCertificate(root, { subject: 'CN=report-host-3, O=Corp' });
    const caFile = join(dir, 'corp-root.pem');
    writeFileSync(caFile, root.certificatePem);
    const td = t.mesh.env['MAYFLY_TRUST_DOMAIN'];
    const spiffeId = `spiffe://e2e.mayfly.test/corp/report-host`;
    const mayfly = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args, '--json'], { env: { ...process.env, ...t.mesh.operatorEnv } });
    await mayfly('issuers', 'put', 'agent-corp-pki', '--issuer-kind', 'x509', '--audience', 'mayfly-x509', '--ca-file', caFile, '--trust-domain', 'corp.example');
    await upsertWorkload(t.db, { spiffeId, ownerTeam: 'reporting', ownerContact: 'reporting@example.com', environment: 'dev', riskTier: 'low', ceiling: [{ resource: RESOURCE, actions: ['read'] }] });
    await mayfly('binding-rules', 'create', 'agent-corp-pki', '--match', 'common_name=report-host-3', '--template', spiffeId);
    writeFileSync(join(dir, 'machine.crt'), machine.certificatePem);
    writeFileSync(join(dir, 'machine.key'), machine.privateKeyPem, { mode: 0o600 });
    const tokenFile = join(dir, 'x509', 'orders.token');
    const config = writeConfig(
      'x509',
      `issuance: ${t.mesh.addresses.issuance}
caFile: ${join(t.pkiDir, 'ca.pem')}
trustDomain: ${td}
evidence:
  kind: x509
  certFile: ${join(dir, 'machine.crt')}
  keyFile: ${join(dir, 'machine.key')}
  audience: mayfly-x509
grants:
  - name: orders
    resource: ${RESOURCE}
    actions: [read]
    files:
      token: ${tokenFile}
`,
    );
    const agent = startAgent(config);
    try {
      await eventually(async () => existsSync(tokenFile), 20_000, 100);
      expect(decodeJwt(readFileSync(tokenFile, 'utf8').trim())).toMatchObject({ sub: spiffeId, aud: RESOURCE });
      // No health endpoint, no command: nothing but the agent itself keeps it running.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(agent.child.exitCode).toBeNull();
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      expect(existsSync(tokenFile)).toBe(false);
    } finally {
      agent.child.kill('SIGKILL');
    }
  }, 60_000);

  it('a config with mistakes is refused before anything runs: every problem with its line, exit 2', async () => {
    const config = writeConfig('bad', `issuance: nowhere\nevidence:\n  kind: oidc-token\n  file: relative\ngrants:\n  - name: orders\n    resource: ${RESOURCE}\n    actions: [read]\n    files: {}\n`);
    const agent = startAgent(config);
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toMatch(/line 1: issuance: must be host:port/);
    expect(agent.output()).toMatch(/line 4: evidence.file: must be an absolute path/);
    expect(agent.output()).toMatch(/line 9: grants\[0\].files: names no file/);
  });
});
