import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@mayfly/grpc';
import { DecideRequest, DecisionServiceClient, Effect } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 10, points 8 (validation) and 9 (explain): operators check a policy directory against the
// Mayfly schema before it goes anywhere — every problem named by file and line — and ask what
// policy would decide for a request without issuing anything.

const POLICIES = fileURLToPath(new URL('../../services/decision/policies/', import.meta.url));

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('policy_tools');
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const mayfly = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['libs/cli/dist/main.js', ...args], { env: { ...process.env, ...t.mesh.operatorEnv } }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout + error.stderr }),
  );

function policyDir(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-policies-'));
  for (const file of ['default.cedar', 'schema.cedarschema', 'approval-rules.json']) copyFileSync(join(POLICIES, file), join(dir, file));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('32 policy tools', () => {
  it('validates the shipped policies, and names the file and line of every problem in a broken set (exit 1)', async () => {
    const good = await mayfly('policy', 'validate', policyDir());
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/4 files valid|3 files valid/);
    const broken = policyDir({
      'team.cedar': '// the reporting team\n@id("reports-read")\npermit (principal, action, resource)\nwhen { principal.enviroment == "dev" };\n\n@id("needs-rule") @approval("nope")\npermit (principal, action, resource);\n',
      'half.cedar': 'permit (principal, action',
    });
    const refused = await mayfly('policy', 'validate', broken);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`${join(broken, 'team.cedar')}:4: reports-read: `);
    expect(refused.stdout).toMatch(/enviroment.*did you mean `environment`/);
    expect(refused.stdout).toMatch(new RegExp(`team\\.cedar:6: needs-rule: .*names no rule`));
    expect(refused.stdout).toMatch(/half\.cedar:1: cannot parse/);
    const json = JSON.parse((await mayfly('policy', 'validate', broken, '--json')).stdout) as { problems: { file: string; line: number }[] };
    expect(json.problems.map((problem) => `${problem.file}:${problem.line}`).sort()).toEqual(['half.cedar:1', 'team.cedar:4', 'team.cedar:6']);
  });

  it('explains what policy would decide, per action, with the approval rule — and issues nothing', async () => {
    const change = JSON.parse((await mayfly('policy', 'explain', PROD.spiffeId, '--resource', RESOURCE, '--actions', 'read,write', '--task-kind', 'change', '--reference', 'CHG-9', '--json')).stdout) as {
      decision: { effect: number; approval: { rule: string } };
      actions: { action: string; allowed: boolean; withinCeiling: boolean; policyIds: string[]; approvalRule: string }[];
    };
    expect(change.decision).toMatchObject({ effect: Effect.EFFECT_NEEDS_APPROVAL, approval: { rule: 'prod-writes' } });
    expect(change.actions).toEqual([
      expect.objectContaining({ action: 'read', allowed: true, withinCeiling: true, policyIds: ['prod-read-with-reference'], approvalRule: '' }),
      expect.objectContaining({ action: 'write', allowed: true, withinCeiling: true, policyIds: ['prod-changes-with-approval'], approvalRule: 'prod-writes' }),
    ]);
    const table = await mayfly('policy', 'explain', DEV.spiffeId, '--resource', RESOURCE, '--actions', 'read,delete');
    expect(table.stdout).toMatch(/^DENY: .*"delete" on pg:orders-db exceeds the entitlement ceiling/m);
    expect(table.stdout).toMatch(/delete\s+OUTSIDE/);
    expect(await t.db.selectFrom('grants').select('id').execute()).toEqual([]);
  });

  it('only operators may explain or validate; issuance keeps Decide', async () => {
    const asIssuance = createClient(DecisionServiceClient, t.mesh.addresses.decision, 'decision', {
      certificatePem: readFileSync(join(t.pkiDir, 'issuance.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(t.pkiDir, 'issuance-key.pem'), 'utf8'),
    });
    const request = DecideRequest.fromPartial({ workload: { spiffeId: DEV.spiffeId, environment: 'dev', ceiling: [] }, task: { id: 't', kind: 'k' }, resource: RESOURCE, actions: ['read'] });
    const refusedExplain = await refusal(callUnary(asIssuance, asIssuance.explain, { request }));
    expect([wireStatus(refusedExplain), refusedExplain.code]).toEqual([status.PERMISSION_DENIED, 'ERR_CALLER_NOT_ALLOWED']);
    expect(wireStatus(await refusal(callUnary(asIssuance, asIssuance.validatePolicies, { files: [] })))).toBe(status.PERMISSION_DENIED);
    expect((await callUnary(asIssuance, asIssuance.decide, request)).effect).toBe(Effect.EFFECT_DENY);
    asIssuance.close();
  });
});
