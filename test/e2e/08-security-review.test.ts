import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { DEV, RESOURCE, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 8: the defects an outside review found, each shown fixed against the real mesh.

const SHIPPED_POLICIES = fileURLToPath(new URL('../../services/decision/policies', import.meta.url));
const BROKEN_RESOURCE = 'pg:payments-db';

/** The shipped policies plus a forbid that cannot be evaluated (integer overflow). */
function policyDirWithBrokenForbid(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-policies-'));
  cpSync(SHIPPED_POLICIES, dir, { recursive: true });
  writeFileSync(
    join(dir, 'broken.cedar'),
    `@id("payments-overflowing-forbid")
forbid (principal, action, resource == Mayfly::Resource::"${BROKEN_RESOURCE}")
when { context.ttlSeconds + 9223372036854775807 > 0 };
`,
  );
  return dir;
}

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('security-review', { env: { MAYFLY_POLICY_DIR: policyDirWithBrokenForbid() } });
  await t.db
    .updateTable('workloads')
    .set({ ceiling: JSON.stringify([{ resource: RESOURCE, actions: ['read', 'write'] }, { resource: BROKEN_RESOURCE, actions: ['read'] }]) })
    .where('spiffe_id', '=', DEV.spiffeId)
    .execute();
});
afterAll(async () => {
  await t?.close();
});

let counter = 0;
const taskId = (label: string) => `review-${label}-${++counter}-${Date.now()}`;

describe('08 security review fixes', () => {
  it('a forbid that fails to evaluate denies, naming the policy in the refusal and the audit', async () => {
    const id = taskId('cedar');
    const error = await refusal(
      callUnary(t.issuance, t.issuance.requestGrant, {
        evidence: { oidcToken: await t.evidence(DEV.subject) },
        task: { id, kind: 'ci-job', reference: '', deadline: undefined },
        resource: BROKEN_RESOURCE,
        actions: ['read'],
        requestedTtlSeconds: 60,
        justification: '',
      }),
    );
    expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
    expect(error.message).toContain('payments-overflowing-forbid');
    expect(error.message).toContain('failed to evaluate');
    const decision = await t.db.selectFrom('audit_events').select(['outcome', 'detail']).where('task_id', '=', id).where('kind', '=', 'decision.made').executeTakeFirstOrThrow();
    expect(decision.outcome).toBe('denied');
    expect(decision.detail['policyIds']).toEqual(['payments-overflowing-forbid']);
    expect(JSON.stringify(decision.detail['reasons'])).toContain('failed to evaluate');
    expect(await t.db.selectFrom('grants').select('id').where('task_id', '=', id).execute()).toEqual([]);
  });
});
