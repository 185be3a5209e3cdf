import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MayflyClient, TaskGrant } from '@mayfly/client';
import { callUnary } from '@mayfly/grpc';
import { CompleteTaskRequest, RevokeRequest, Verdict } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 12, point 7: completing (the workload) or revoking (an operator) a task id ends every
// grant of that task in one audited operation, and edges reject their tokens.

let t: TestMesh;
const clients: MayflyClient[] = [];
beforeAll(async () => {
  t = await startTestMesh('task_completion');
}, 60_000);
afterAll(async () => {
  clients.forEach((client) => client.close());
  await t?.close();
});

const task = (id: string) => ({ id, kind: 'ci-job', reference: 'JOB-12', deadline: undefined });
const verdict = async (grant: TaskGrant) => {
  const answer = await callUnary(t.edge, t.edge.verify, { accessToken: grant.token, audience: RESOURCE, action: 'read', peerCertificate: grant.certificate ?? Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};
const status_ = async (grantId: string) => (await t.db.selectFrom('grants').select('status').where('id', '=', grantId).executeTakeFirstOrThrow()).status;
const sessionClient = (subject: string) => {
  const client = t.client(subject, { session: true });
  clients.push(client);
  return client;
};

describe('26 completing and revoking a task', () => {
  it("a workload completes its task: every grant of it ends at once, other tasks and other workloads' grants stay", async () => {
    const dev = sessionClient(DEV.subject);
    const id = `deploy-${Date.now()}`;
    const [first, second] = [await dev.acquire({ task: task(id), resource: RESOURCE, actions: ['read'] }), await dev.acquire({ task: task(id), resource: RESOURCE, actions: ['read'] })];
    const otherTask = await dev.acquire({ task: task(`${id}-other`), resource: RESOURCE, actions: ['read'] });
    const prodSameTaskId = await sessionClient(PROD.subject).acquire({ task: task(id), resource: RESOURCE, actions: ['read'] });

    const ended = await dev.completeTask(id, 'succeeded');
    expect([...ended].sort()).toEqual([first.grant.id, second.grant.id].sort());
    await eventually(async () => (await verdict(first)) === 'ERR_TOKEN_REVOKED' && (await verdict(second)) === 'ERR_TOKEN_REVOKED', 5_000, 50);
    expect(await verdict(otherTask)).toBe('accepted');
    expect(await verdict(prodSameTaskId)).toBe('accepted');
    expect(await status_(first.grant.id)).toBe('completed');
    expect(await status_(prodSameTaskId.grant.id)).toBe('active');
    // One operation on record, with each grant's own record beside it.
    await eventually(async () => {
      const rows = await t.db.selectFrom('audit_events').select(['kind', 'detail']).where('task_id', '=', id).execute();
      const summary = rows.find((row) => row.kind === 'task.completed');
      return summary !== undefined && (summary.detail as Record<string, unknown>)['grantsEnded'] === 2 && rows.filter((row) => row.kind === 'grant.completed').length === 2;
    }, 10_000, 100);
    // Completing it again: nothing left to end.
    expect(await dev.completeTask(id)).toEqual([]);
  });

  it('without a session, a current token of one of the task\'s grants proves who asks; a token of another task does not', async () => {
    const client = t.client(DEV.subject);
    const id = `evidence-task-${Date.now()}`;
    const grant = await client.acquire({ task: task(id), resource: RESOURCE, actions: ['read'] });
    const other = await client.acquire({ task: task(`${id}-x`), resource: RESOURCE, actions: ['read'] });
    const wrong = await refusal(callUnary(t.issuance, t.issuance.completeTask, CompleteTaskRequest.fromPartial({ taskId: id, accessToken: other.token })));
    expect(wireStatus(wrong)).toBe(status.UNAUTHENTICATED);
    expect(wrong.code).toBe('ERR_TOKEN_INVALID');
    const none = await refusal(callUnary(t.issuance, t.issuance.completeTask, CompleteTaskRequest.fromPartial({ taskId: id })));
    expect(wireStatus(none)).toBe(status.UNAUTHENTICATED);
    expect(await client.completeTask(id, 'done', grant)).toEqual([grant.grant.id]);
    await eventually(async () => (await verdict(grant)) === 'ERR_TOKEN_REVOKED', 5_000, 50);
  });

  it('an operator revokes a task across workloads in one call', async () => {
    const id = `incident-${Date.now()}`;
    const dev = await t.client(DEV.subject).acquire({ task: task(id), resource: RESOURCE, actions: ['read'] });
    const prod = await t.client(PROD.subject).acquire({ task: task(id), resource: RESOURCE, actions: ['read'] });
    const response = await callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ task: { taskId: id, spiffeId: '' }, reason: 'incident closed' }));
    expect([...response.endedGrantIds].sort()).toEqual([dev.grant.id, prod.grant.id].sort());
    await eventually(async () => (await verdict(dev)) === 'ERR_TOKEN_REVOKED' && (await verdict(prod)) === 'ERR_TOKEN_REVOKED', 5_000, 50);
    expect(response.grant).toBeUndefined();
    expect((await t.db.selectFrom('grants').select('status').where('id', '=', dev.grant.id).executeTakeFirstOrThrow()).status).toBe('revoked');
    await eventually(async () => (await t.db.selectFrom('audit_events').select('kind').where('task_id', '=', id).where('kind', '=', 'task.revoked').execute()).length === 1, 10_000, 100);
  });
});
