import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@mayfly/grpc';
import type { MeshReplica } from '@mayfly/mesh';
import { DecideRequest, DecisionServiceClient, Effect, RiskTier } from '@mayfly/proto';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 10, point 8: policies and approval rules as versioned sets in PostgreSQL. Pushed with the
// CLI (validated, audited), used by the next decision on every replica without a restart — the
// replica that stores a version at once, the others on NOTIFY (the periodic check is set to a
// minute here, so only the notification can explain a reload within seconds) — diffed, rolled back.

const SHIPPED = fileURLToPath(new URL('../../services/decision/policies', import.meta.url));
const FREEZE = '\n// Orders are frozen for the audit.\n@id("freeze-orders")\nforbid (principal, action == Mayfly::Action::"read", resource)\nwhen { resource.scheme == "pg" };\n';

let t: TestMesh;
let decision: DecisionServiceClient;
let replica: MeshReplica;
let replicaAsIssuance: DecisionServiceClient;
beforeAll(async () => {
  t = await startTestMesh('policy-sets', { env: { MAYFLY_POLICY_CHECK_MS: '60000' } });
  decision = createClient(DecisionServiceClient, t.mesh.addresses.decision, 'decision');
  replica = await t.mesh.startReplica('decision');
  replicaAsIssuance = new DecisionServiceClient(replica.address, t.credentialsAs('issuance'));
}, 90_000);
afterAll(async () => {
  decision?.close();
  replicaAsIssuance?.close();
  await t?.close();
});

const mayfly = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['libs/cli/dist/main.js', ...args, '--json'], { env: { ...process.env, ...t.mesh.operatorEnv } });
  return JSON.parse(stdout) as Record<string, unknown>;
};
const policyDir = (extra = '', more: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-policy-set-'));
  cpSync(SHIPPED, dir, { recursive: true });
  writeFileSync(join(dir, 'default.cedar'), readFileSync(join(SHIPPED, 'default.cedar'), 'utf8') + extra);
  for (const [name, text] of Object.entries(more)) writeFileSync(join(dir, name), text);
  return dir;
};
let n = 0;
const read = () => t.client(DEV.subject).acquire({ task: { id: `policy-sets-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'RUN-1', deadline: undefined }, resource: RESOURCE, actions: ['read'], autoRenew: false });
/** What the second replica (never called by the CLI) decides now. */
const replicaDecides = () =>
  callUnary(
    replicaAsIssuance,
    replicaAsIssuance.decide,
    DecideRequest.fromPartial({
      workload: { spiffeId: DEV.spiffeId, environment: 'dev', riskTier: RiskTier.RISK_TIER_LOW, ownerTeam: 'ci', ceiling: [{ resource: RESOURCE, actions: ['read'] }] },
      task: { id: 'replica', kind: 'ci-job', reference: 'RUN-1' },
      resource: RESOURCE,
      actions: ['read'],
      requestedTtlSeconds: 60,
    }),
    { target: 'decision' },
  );
const audited = async (kind: string) => t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', kind).orderBy('sequence').execute();

describe('34 policy sets', () => {
  it('the first start seeds version 1 from the policy directory, audited; decisions name it', async () => {
    const versions = (await mayfly('policy', 'versions')) as unknown as { version: number; createdBy: string; files: string[] }[];
    expect(versions).toEqual([expect.objectContaining({ version: 1, createdBy: expect.stringContaining('decision (seeded from'), files: ['approval-rules.json', 'default.cedar', 'schema.cedarschema'] })]);
    await eventually(async () => (await audited('policy.seeded')).length === 1, 10_000, 100);
    await read();
    // An allowed request's decision is recorded in its grant.issued.
    await eventually(async () => (await audited('grant.issued')).some((event) => (event.detail as { policySetVersion?: number }).policySetVersion === 1), 10_000, 100);
    expect((await replicaDecides()).policySetVersion).toBe(1);
  });

  it('a pushed set is used by the next decision on every replica without a restart, and every decision records its version', async () => {
    await read();
    const pushed = (await mayfly('policy', 'push', policyDir(FREEZE), '--reason', 'freeze for the audit')) as { version: { version: number; createdBy: string; reason: string }; unchanged: boolean };
    expect(pushed).toMatchObject({ unchanged: false, version: { version: 2, createdBy: 'spiffe://mayfly.local/mayfly/operator', reason: 'freeze for the audit' } });
    // The replica that stored it: at once.
    const refused = await refusal(read());
    expect([wireStatus(refused), refused.message]).toEqual([status.PERMISSION_DENIED, expect.stringContaining('freeze-orders')]);
    // The other replica: on the notification (its periodic check is a minute away).
    const started = Date.now();
    await eventually(async () => (await replicaDecides()).policySetVersion === 2, 5_000, 20);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await replicaDecides()).toMatchObject({ effect: Effect.EFFECT_DENY, policyIds: ['freeze-orders'], policySetVersion: 2 });
    await eventually(async () => (await audited('decision.made')).some((event) => (event.detail as { policySetVersion?: number }).policySetVersion === 2), 10_000, 100);
    const [record] = await audited('policy.pushed');
    expect(record).toMatchObject({ actor: 'spiffe://mayfly.local/mayfly/operator', detail: { version: 2, reason: 'freeze for the audit' } });
    // The same set again is no new version.
    expect(await mayfly('policy', 'push', policyDir(FREEZE))).toMatchObject({ unchanged: true, version: { version: 2 } });
  });

  it('a set that fails validation is refused with its file and line, and nothing is stored', async () => {
    const broken = { 'broken.cedar': 'permit (principal, action, resource)\nwhen { principal.environment == "dev" };\n\nforbid (principal, action, resource)\nwhen { context.nonsense == 1 };\n' };
    const files = Object.entries({ ...broken }).map(([name, text]) => ({ name, text }));
    const withShipped = [...files, ...['default.cedar', 'schema.cedarschema', 'approval-rules.json'].map((name) => ({ name, text: readFileSync(join(SHIPPED, name), 'utf8') }))];
    const error = await refusal(callUnary(decision, decision.pushPolicies, { files: withShipped, reason: '' }));
    expect([wireStatus(error), error.message]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/broken\.cedar:5: .*nonsense/)]);
    const cli = (await mayfly('policy', 'push', policyDir('', broken)).then(
      () => undefined,
      (failure: unknown) => failure as { code: number; stderr: string },
    ))!;
    expect([cli.code, cli.stderr]).toEqual([1, expect.stringMatching(/broken\.cedar:5: broken#1: .*nonsense/)]);
    for (const bad of [[{ name: '../escape.cedar', text: 'permit (principal, action, resource);' }], [{ name: 'default.cedar', text: 'permit (principal, action, resource);' }]]) {
      expect(wireStatus(await refusal(callUnary(decision, decision.pushPolicies, { files: bad, reason: '' })))).toBe(status.INVALID_ARGUMENT);
    }
    expect(((await mayfly('policy', 'versions')) as unknown as unknown[]).length).toBe(2);
  });

  it('diff shows what changed; rollback makes an earlier version active again as a new one, on every replica', async () => {
    const diff = (await mayfly('policy', 'diff')) as { from: string; to: string; diff: string[] };
    expect(diff).toMatchObject({ from: 'v1', to: 'v2' });
    expect(diff.diff).toEqual(expect.arrayContaining(['--- v1/default.cedar', '+++ v2/default.cedar', '+@id("freeze-orders")']));
    const againstDir = (await mayfly('policy', 'diff', SHIPPED)) as { diff: string[] };
    expect(againstDir.diff).toContain('-@id("freeze-orders")');

    const rolledBack = (await mayfly('policy', 'rollback', '1', '--reason', 'audit done')) as { version: { version: number; rolledBackFrom: number } };
    expect(rolledBack.version).toMatchObject({ version: 3, rolledBackFrom: 1 });
    await expect(read()).resolves.toMatchObject({ grant: { spiffeId: DEV.spiffeId } });
    await eventually(async () => (await replicaDecides()).policySetVersion === 3, 5_000, 20);
    expect((await replicaDecides()).effect).toBe(Effect.EFFECT_ALLOW);
    await eventually(async () => (await audited('policy.rolled_back')).length === 1, 10_000, 100);
    expect((await audited('policy.rolled_back'))[0]).toMatchObject({ detail: { version: 3, rolledBackFrom: 1, reason: 'audit done' } });
    const shown = (await mayfly('policy', 'show', '3')) as { files: { name: string; text: string }[] };
    expect(shown.files.find((file) => file.name === 'default.cedar')?.text).toBe(readFileSync(join(SHIPPED, 'default.cedar'), 'utf8'));
    expect(wireStatus(await refusal(callUnary(decision, decision.rollbackPolicies, { version: 99, reason: '' })))).toBe(status.NOT_FOUND);
  });

  it('hostile: only operators push, list, read or roll back policy sets', async () => {
    const asIssuance = new DecisionServiceClient(t.mesh.addresses.decision, t.credentialsAs('issuance'));
    try {
      const files = [{ name: 'default.cedar', text: 'permit (principal, action, resource);' }];
      for (const call of [
        callUnary(asIssuance, asIssuance.pushPolicies, { files, reason: '' }),
        callUnary(asIssuance, asIssuance.listPolicyVersions, { limit: 1 }),
        callUnary(asIssuance, asIssuance.getPolicyVersion, { version: 1 }),
        callUnary(asIssuance, asIssuance.rollbackPolicies, { version: 2, reason: '' }),
      ]) {
        expect(wireStatus(await refusal(call))).toBe(status.PERMISSION_DENIED);
      }
    } finally {
      asIssuance.close();
    }
    expect(((await mayfly('policy', 'versions')) as unknown as unknown[]).length).toBe(3);
  });
});
