import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MayflyClient } from '@mayfly/client';
import { callUnary } from '@mayfly/grpc';
import { RequestGrantRequest } from '@mayfly/proto';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 12, point 5: a retried RequestGrant under the same idempotency key returns the same
// grant and the very same token instead of a second grant; the key with other parameters is
// refused; the client library sets a key on every acquire and retries when issuance could not
// answer, so a dependency outage mid-request costs no duplicate grant.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('idempotency');
}, 60_000);
afterAll(async () => {
  await t?.close();
});

let n = 0;
const body = async (key: string, overrides: Partial<RequestGrantRequest> = {}) =>
  RequestGrantRequest.fromPartial({
    evidence: { oidcToken: await t.evidence(DEV.subject) }, // fresh evidence each attempt, as a retrying workload brings
    task: { id: `idempotent-${key}`, kind: 'ci-job', reference: 'JOB-12' },
    resource: RESOURCE,
    actions: ['read'],
    requestedTtlSeconds: 120,
    idempotencyKey: key,
    ...overrides,
  });
const request = async (key: string, overrides: Partial<RequestGrantRequest> = {}) => callUnary(t.issuance, t.issuance.requestGrant, await body(key, overrides));
const grantsOfTask = async (taskId: string) => t.db.selectFrom('grants').select('id').where('task_id', '=', taskId).execute();
const auditOf = async (kind: string) => t.db.selectFrom('audit_events').select(['grant_id', 'detail', 'actor']).where('kind', '=', kind).execute();

describe('25 idempotent RequestGrant', () => {
  it('a retry under the same key gets the same grant and byte-for-byte the same token; one grant exists; the replay is on record', async () => {
    const key = `retry-${++n}-${Date.now()}`;
    const first = await request(key);
    const second = await request(key);
    expect(second.grant!.id).toBe(first.grant!.id);
    expect(second.accessToken).toBe(first.accessToken);
    expect(await grantsOfTask(`idempotent-${key}`)).toHaveLength(1);
    await eventually(async () => (await auditOf('grant.replayed')).some((row) => row.grant_id === first.grant!.id && row.actor === DEV.spiffeId), 10_000, 100);
  });

  it('the same key with other parameters is refused (INVALID_ARGUMENT), audited, and creates nothing', async () => {
    const key = `conflict-${++n}-${Date.now()}`;
    const first = await request(key);
    const error = await refusal(request(key, { actions: ['read', 'write'] }));
    expect(wireStatus(error)).toBe(status.INVALID_ARGUMENT);
    expect([error.code, error.field]).toEqual(['ERR_INVALID_ARGUMENT', 'idempotency_key']);
    expect(error.message).toContain(first.grant!.id); // names the grant the key belongs to
    expect(await grantsOfTask(`idempotent-${key}`)).toHaveLength(1);
    await eventually(async () => (await auditOf('grant.idempotency_conflict')).some((row) => (row.detail as Record<string, unknown>)['idempotencyKey'] === key), 10_000, 100);
  });

  it('concurrent attempts under one key make one grant and all get it', async () => {
    const key = `race-${++n}-${Date.now()}`;
    const bodies = await Promise.all(Array.from({ length: 6 }, () => body(key)));
    const answers = await Promise.all(bodies.map((b) => callUnary(t.issuance, t.issuance.requestGrant, b)));
    expect(new Set(answers.map((a) => a.grant!.id)).size).toBe(1);
    expect(new Set(answers.map((a) => a.accessToken)).size).toBe(1);
    expect(await grantsOfTask(`idempotent-${key}`)).toHaveLength(1);
  });

  it('the client library retries while issuance cannot answer, under one key, and ends with exactly one grant', async () => {
    let attempts = 0;
    const client = new MayflyClient({
      issuanceAddress: t.mesh.addresses.issuance,
      evidence: () => {
        attempts += 1; // without sessions, each attempt brings fresh evidence
        return t.evidence(DEV.subject);
      },
      session: false,
      retries: { retries: 20, initialDelayMs: 100 },
    });
    try {
      const taskId = `client-retry-${Date.now()}`;
      await t.mesh.stopService('decision');
      const acquiring = client.acquire({ task: { id: taskId, kind: 'ci-job', reference: 'JOB-12', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
      // While decision is down, issuance answers UNAVAILABLE and the client tries again.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await grantsOfTask(taskId)).toHaveLength(0);
      await t.mesh.startService('decision');
      const access = await acquiring;
      expect(access.grant.task!.id).toBe(taskId);
      expect(await grantsOfTask(taskId)).toHaveLength(1);
      expect(attempts).toBeGreaterThan(1); // it did retry
      await access.release();
    } finally {
      client.close();
    }
  }, 60_000);

  it('refuses a malformed key before anything else', async () => {
    const error = await refusal(request('has spaces in it', { task: { id: `malformed-key-${Date.now()}`, kind: 'ci-job', reference: '', deadline: undefined } }));
    expect(wireStatus(error)).toBe(status.INVALID_ARGUMENT);
    expect([error.code, error.field]).toEqual(['ERR_INVALID_ARGUMENT', 'idempotency_key']);
  });
});
