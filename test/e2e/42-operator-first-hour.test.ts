import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '@mayfly/mesh';
import { DEV, RESOURCE, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 23, point 6: the operator's first hour with the CLI. Each command's own help; an unknown
// noun, verb or flag named with the nearest valid one; every error says what to do (mesh not
// running, enum values, numbers checked before the wire, a missing directory named); all missing
// flags at once; table headers in words. Against a real mesh where a command needs one.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('first_hour');
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const mayfly = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ['libs/cli/dist/main.js', ...args], { env: { ...process.env, ...t.mesh.operatorEnv, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

describe('42 the operator\'s first hour', () => {
  it('`mayfly <noun> --help` lists that noun\'s verbs; `mayfly <noun> <verb> --help` prints that command\'s own help', async () => {
    const noun = await mayfly(['workloads', '--help']);
    expect(noun.code).toBe(0);
    expect(noun.stdout).toMatch(/^usage: mayfly workloads <verb>/);
    expect(noun.stdout).toMatch(/^ {2}create +register a workload/m);
    expect(noun.stdout).not.toContain('revoke grant'); // only its own verbs, not the whole CLI
    const verb = await mayfly(['workloads', 'create', '--help']);
    expect(verb.code).toBe(0);
    expect(verb.stdout).toMatch(/^usage: mayfly workloads create \[flags\]/);
    expect(verb.stdout).toMatch(/flags: --owner-team, --owner-contact, --environment, --risk-tier, --ceiling, --shared, .*--json/);
    expect(verb.stdout).not.toContain('mesh start');
  });

  it('names an unknown noun, verb or flag with the nearest valid one (exit 2)', async () => {
    const noun = await mayfly(['workload', 'creat']);
    expect(noun.code).toBe(2);
    expect(noun.stderr).toContain('"mayfly workload" has no verb "creat"');
    expect(noun.stderr).toContain('(its verbs: disable, enable)');
    const typo = await mayfly(['worklods', 'list']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown command "worklods" — did you mean "mayfly workloads"?');
    const verb = await mayfly(['workloads', 'craete']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('did you mean "mayfly workloads create"?');
    expect(verb.stderr).toContain('its verbs: create, update, show, list, disable, enable');
    const flag = await mayfly(['grants', 'list', '--limt', '5']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown flag --limt — did you mean --limit?');
  });

  it('checks numbers and enum values before anything reaches the wire, and lists what is accepted', async () => {
    const limit = await mayfly(['grants', 'list', '--limit', 'abc', '--id-token', 'x']);
    expect(limit.code).toBe(1);
    expect(limit.stderr).toContain('--limit must be a whole number from 1 to 1000, not "abc"');
    expect(limit.stderr).not.toContain('serialization failure');
    const versions = await mayfly(['policy', 'versions', '--limit', '0']);
    expect(versions.stderr).toContain('--limit must be a whole number from 1 to 1000, not "0"');
    const status = await mayfly(['grants', 'list', '--status', 'alive', '--id-token', 'x']);
    expect(status.stderr).toContain('--status "alive" is not one of: pending_approval, active, completed, revoked, expired, denied');
    const tier = await mayfly(['workloads', 'create', 'spiffe://demo.mayfly.local/x', '--owner-team', 'a', '--owner-contact', 'b', '--environment', 'dev', '--risk-tier', 'extreme', '--ceiling', `${RESOURCE}=read`]);
    expect(tier.stderr).toContain('--risk-tier "extreme" is not one of: low, medium, high, critical');
    const port = await mayfly(['resources', 'put', 'pg:x', '--kind', 'postgresql', '--host', 'h', '--port', '99999', '--admin-credential-file', '/dev/null', '--map', 'read=r']);
    expect(port.stderr).toContain('--port must be a whole number from 1 to 65535, not "99999"');
  });

  it('`workloads create` lists every missing flag at once', async () => {
    const missing = await mayfly(['workloads', 'create', 'spiffe://demo.mayfly.local/new', '--owner-team', 'payments']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('missing --owner-contact, --environment, --risk-tier, --ceiling');
  });

  it('names a missing policy directory instead of a raw ENOENT', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'first-hour-')), 'policies');
    const result = await mayfly(['policy', 'validate', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`policy directory ${dir} does not exist`);
    expect(result.stderr).not.toContain('ENOENT');
    const file = join(mkdtempSync(join(tmpdir(), 'first-hour-')), 'default.cedar');
    writeFileSync(file, 'permit (principal, action, resource);');
    expect((await mayfly(['policy', 'validate', file])).stderr).toContain(`${file} is a file, not a policy directory`);
  });

  it('says how to start the mesh when it is not running', async () => {
    const [closed] = await freePorts(1);
    const result = await mayfly(['revoke', 'grant', '00000000-0000-4000-8000-000000000000'], { MAYFLY_REVOCATION_ADDR: `127.0.0.1:${closed}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Is the mesh running? Start one on this machine with `npm start`');
  });

  it('the revoke table reads GRANTS ENDED, and explaining a deny does not print a token lifetime', async () => {
    const grant = await t.client(DEV.subject).acquire({ task: { id: `first-hour-${Date.now()}`, kind: 'ci-job', reference: 'JOB-1', deadline: undefined }, resource: RESOURCE, actions: ['read'], ttlSeconds: 60 });
    const revoked = await mayfly(['revoke', 'grant', grant.grant.id, '--reason', 'first hour']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^REVOKED +GRANTS ENDED +REVOCATION +ON STREAM$/m);
    const deny = await mayfly(['policy', 'explain', DEV.spiffeId, '--resource', RESOURCE, '--actions', 'delete']);
    expect(deny.stdout).toMatch(/^DENY: /m);
    expect(deny.stdout).toContain('no token: denied');
    expect(deny.stdout).not.toContain('max token 0 s');
  });
});
