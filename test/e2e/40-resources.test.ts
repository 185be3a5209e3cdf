import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@mayfly/grpc';
import { RegistryServiceClient, ResourceKind } from '@mayfly/proto';
import { eventually, refusal, startTestMesh, type TestMesh } from '../support/test-mesh.js';

/**
 * Issue 22, point 2: resources as connectors in the registry. `mayfly resources put` stores a
 * resource only after attestation connected with its admin credential (read from a file; never
 * sent, stored or logged) and found every mapped role; each change is audited.
 */
const run = randomBytes(4).toString('hex');
const database = `mayfly_res_${run}`;
const reader = `res_reader_${run}`;
let t: TestMesh;
let registry: RegistryServiceClient;
let adminFile: string;
const ADMIN_URL = `postgres://postgres@127.0.0.1:5432/${database}`;

async function asOwner(db: string, sql: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: db });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const mayfly = async (...args: string[]) => {
  const result = await promisify(execFile)(process.execPath, ['libs/cli/dist/main.js', ...args, '--json'], { env: { ...process.env, ...t.mesh.operatorEnv } }).catch((error: { stdout: string; stderr: string; code: number }) => error);
  return { code: 'code' in result ? result.code : 0, stdout: result.stdout, stderr: result.stderr };
};

beforeAll(async () => {
  await asOwner('postgres', `CREATE DATABASE ${database}`);
  await asOwner(database, `CREATE ROLE ${reader} NOLOGIN`);
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-resources-'));
  adminFile = join(dir, 'admin-url');
  writeFileSync(adminFile, `${ADMIN_URL}\n`, { mode: 0o600 });
  t = await startTestMesh('resources');
  registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
}, 120_000);

afterAll(async () => {
  registry?.close();
  await t?.close();
  await asOwner('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await asOwner('postgres', `DROP ROLE IF EXISTS ${reader}`);
});

describe('40 resources in the registry', () => {
  it('puts a PostgreSQL resource after connecting to it; lists and shows it; audits the change with the operator', async () => {
    const put = await mayfly('resources', 'put', 'pg:orders-db', '--kind', 'postgresql', '--host', '127.0.0.1', '--port', '5432', '--database', database, '--admin-credential-file', adminFile, '--map', `read=${reader}`, '--reason', 'e2e');
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ created: true, resource: { name: 'pg:orders-db', host: '127.0.0.1', port: 5432, database, actions: { read: { grants: [reader] } } } });
    const listed = JSON.parse((await mayfly('resources', 'list')).stdout) as { name: string }[];
    expect(listed.map((resource) => resource.name)).toContain('pg:orders-db');
    const shown = await callUnary(registry, registry.getResource, { name: 'pg:orders-db' });
    expect(shown.resource).toMatchObject({ kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, adminCredentialFile: adminFile });
    await eventually(async () => (await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', 'resource.created').execute()).some((event) => event.actor.endsWith('/mayfly/operator')));
  });

  it('refuses a resource whose mapped role does not exist, or whose database cannot be reached, saying what is wrong, storing nothing', async () => {
    const missing = await refusal(callUnary(registry, registry.putResource, { resource: { name: 'pg:missing-role', kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, host: '127.0.0.1', port: 5432, database, adminCredentialFile: adminFile, actions: { read: { grants: ['no_such_role'] } }, connectionLimit: 0, updatedBy: '', updatedAt: undefined }, reason: '' }));
    expect([missing.code, missing.message.includes('no_such_role')]).toEqual(['ERR_INVALID_ARGUMENT', true]);
    const away = join(mkdtempSync(join(tmpdir(), 'mayfly-away-')), 'admin-url');
    writeFileSync(away, 'postgres://postgres@127.0.0.1:1/none');
    const unreachable = await refusal(callUnary(registry, registry.putResource, { resource: { name: 'pg:away', kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, host: '127.0.0.1', port: 1, database: 'none', adminCredentialFile: away, actions: { read: { grants: [reader] } }, connectionLimit: 0, updatedBy: '', updatedAt: undefined }, reason: '' }));
    expect(unreachable.code).toBe('ERR_DEPENDENCY_UNAVAILABLE');
    const noFile = await refusal(callUnary(registry, registry.putResource, { resource: { name: 'pg:no-file', kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, host: '127.0.0.1', port: 5432, database, adminCredentialFile: '/nonexistent/admin-url', actions: { read: { grants: [reader] } }, connectionLimit: 0, updatedBy: '', updatedAt: undefined }, reason: '' }));
    expect([noFile.code, noFile.field]).toEqual(['ERR_INVALID_ARGUMENT', 'admin_credential_file']);
    const names = (await callUnary(registry, registry.listResources, {})).resources.map((resource) => resource.name);
    expect(names).not.toContain('pg:missing-role');
    expect(names).not.toContain('pg:away');
    expect(names).not.toContain('pg:no-file');
  });

  it('hostile: a role name that is SQL, a relative credential path and an empty action map are refused before anything connects', async () => {
    const base = { name: 'pg:hostile', kind: ResourceKind.RESOURCE_KIND_POSTGRESQL, host: '127.0.0.1', port: 5432, database, adminCredentialFile: adminFile, connectionLimit: 0, updatedBy: '', updatedAt: undefined };
    const sqlRole = await refusal(callUnary(registry, registry.putResource, { resource: { ...base, actions: { read: { grants: [`${reader}"; DROP DATABASE postgres; --`] } } }, reason: '' }));
    expect([sqlRole.code, sqlRole.field]).toEqual(['ERR_INVALID_ARGUMENT', 'resource.actions']);
    const relative = await refusal(callUnary(registry, registry.putResource, { resource: { ...base, adminCredentialFile: 'admin-url', actions: { read: { grants: [reader] } } }, reason: '' }));
    expect([relative.code, relative.field]).toEqual(['ERR_INVALID_ARGUMENT', 'resource.admin_credential_file']);
    const empty = await refusal(callUnary(registry, registry.putResource, { resource: { ...base, actions: {} }, reason: '' }));
    expect([empty.code, empty.field]).toEqual(['ERR_INVALID_ARGUMENT', 'resource.actions']);
  });

  it('the admin credential never leaves its file: not in answers, the audit trail or the logs', async () => {
    const shown = JSON.stringify(await callUnary(registry, registry.listResources, {}));
    const events = JSON.stringify(await t.db.selectFrom('audit_events').select('detail').where('kind', 'like', 'resource.%').execute());
    for (const text of [shown, events, t.logLines.join('\n')]) expect(text).not.toContain(ADMIN_URL);
    expect(events).toContain(adminFile); // the path is recorded; what it holds is not
  });

  it('removes a resource (audited); a second removal is NOT_FOUND', async () => {
    const removed = await mayfly('resources', 'remove', 'pg:orders-db', '--reason', 'e2e done');
    expect(removed.code, removed.stderr).toBe(0);
    const again = await refusal(callUnary(registry, registry.removeResource, { name: 'pg:orders-db', reason: '' }));
    expect(again.code).toBe('ERR_NOT_FOUND');
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('kind', '=', 'resource.removed').execute()).length > 0);
  });
});
