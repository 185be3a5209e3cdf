import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { HeartbeatRequest, RequestGrantRequest, Verdict } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 12, point 3: a grant may require liveness — asked by the request or required by policy.
// The client library sends heartbeats while its process lives; a grant with no heartbeat within
// its interval is revoked (heartbeat_missed) by the revocation service: durable, audited, pushed
// to edges. A task killed mid-way (SIGKILL) loses its access within one interval plus one sweep.

const INTERVAL_SECONDS = 2;
const SWEEP_MS = 250;
const POLICY_HEARTBEAT_SECONDS = 3;

let t: TestMesh;
const workers: ChildProcess[] = [];
beforeAll(async () => {
  // The shipped policies, with production reads made to require liveness.
  const policies = mkdtempSync(join(tmpdir(), 'mayfly-policies-'));
  cpSync('services/decision/policies', policies, { recursive: true });
  const file = join(policies, 'default.cedar');
  writeFileSync(file, readFileSync(file, 'utf8').replace('@id("prod-read-with-reference")', `@id("prod-read-with-reference")\n@heartbeat_seconds("${POLICY_HEARTBEAT_SECONDS}")`));
  t = await startTestMesh('heartbeats', { env: { MAYFLY_HEARTBEAT_SWEEP_MS: String(SWEEP_MS), MAYFLY_POLICY_DIR: policies } });
}, 60_000);
afterAll(async () => {
  workers.forEach((worker) => worker.kill('SIGKILL'));
  await t?.close();
});

const verdict = async (token: string) => {
  const answer = await callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};
const grantRow = (id: string) => t.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** Starts a workload process that holds a live grant; resolves with what it printed. */
async function startWorker(taskId: string): Promise<{ worker: ChildProcess; grantId: string; token: string; heartbeatIntervalSeconds: number }> {
  const worker = spawn(process.execPath, ['test/support/heartbeat-worker.mjs'], {
    env: {
      ...process.env,
      WORKER_ISSUANCE_ADDRESS: t.mesh.addresses.issuance,
      WORKER_EVIDENCE: await t.evidence(DEV.subject),
      WORKER_TASK_ID: taskId,
      WORKER_RESOURCE: RESOURCE,
      WORKER_HEARTBEAT_SECONDS: String(INTERVAL_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(worker);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: worker.stdout! }).once('line', resolve);
    worker.once('exit', (code) => reject(new Error(`heartbeat worker exited (${code}) before printing its grant`)));
  });
  return { worker, ...(JSON.parse(line) as { grantId: string; token: string; heartbeatIntervalSeconds: number }) };
}

describe('27 heartbeats', () => {
  it('a live process keeps its grant past the interval; killed, it loses it within one interval and a sweep, revoked as heartbeat_missed on record', async () => {
    const taskId = `liveness-${Date.now()}`;
    const { worker, grantId, token, heartbeatIntervalSeconds } = await startWorker(taskId);
    expect(heartbeatIntervalSeconds).toBe(INTERVAL_SECONDS);
    expect(await verdict(token)).toBe('accepted');
    // Three intervals on: still live, because the process beats.
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_SECONDS * 1000));
    expect(await verdict(token)).toBe('accepted');
    expect((await grantRow(grantId)).last_heartbeat_at).not.toBeNull();

    worker.kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(async () => (await verdict(token)) === 'ERR_TOKEN_REVOKED', 10_000, 25);
    const lostAfterMs = Date.now() - killedAt;
    const boundMs = INTERVAL_SECONDS * 1000 + SWEEP_MS + 1_500; // interval + one sweep + revocation, propagation and a loaded machine's slack
    process.stdout.write(`heartbeats: killed process lost its access ${lostAfterMs} ms after SIGKILL (interval ${INTERVAL_SECONDS} s, sweep ${SWEEP_MS} ms; bound ${boundMs} ms)\n`);
    expect(lostAfterMs).toBeLessThanOrEqual(boundMs);
    const row = await grantRow(grantId);
    expect(row.status).toBe('revoked');
    expect(row.end_reason).toMatch(/^heartbeat_missed/);
    await eventually(async () => {
      const events = await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('grant_id', '=', grantId).where('kind', '=', 'grant.revoked').execute();
      return events.some((event) => event.actor === 'mayfly:liveness' && String((event.detail as Record<string, unknown>)['reason']).startsWith('heartbeat_missed'));
    }, 10_000, 100);
  }, 40_000);

  it('policy can require liveness the request did not ask for; the Heartbeat RPC says when the next is due', async () => {
    const grant = await t.client(PROD.subject).acquire({ task: { id: `policy-liveness-${Date.now()}`, kind: 'ci-job', reference: 'INC-1', deadline: undefined }, resource: RESOURCE, actions: ['read'], autoRenew: false });
    expect(grant.grant.heartbeatIntervalSeconds).toBe(POLICY_HEARTBEAT_SECONDS);
    const answer = await callUnary(t.issuance, t.issuance.heartbeat, HeartbeatRequest.fromPartial({ grantId: grant.grant.id, accessToken: grant.token }));
    expect(answer.nextDue!.getTime() - Date.now()).toBeGreaterThan((POLICY_HEARTBEAT_SECONDS - 1) * 1000);
    // The handle beats by itself: it outlives the interval.
    await new Promise((resolve) => setTimeout(resolve, (POLICY_HEARTBEAT_SECONDS + 1) * 1000));
    expect(await verdict(grant.token)).toBe('accepted');
    await grant.release();
  }, 20_000);

  it('a grant whose holder never beats is revoked after its interval; heartbeats for it are refused from then on', async () => {
    // Asked for over the raw RPC: no library beats for it.
    const silent = await callUnary(
      t.issuance,
      t.issuance.requestGrant,
      RequestGrantRequest.fromPartial({
        evidence: { oidcToken: await t.evidence(DEV.subject) },
        task: { id: `silent-${Date.now()}`, kind: 'ci-job', reference: 'JOB-12' },
        resource: RESOURCE,
        actions: ['read'],
        heartbeatIntervalSeconds: 1,
      }),
    );
    expect(silent.grant!.heartbeatIntervalSeconds).toBe(1);
    const other = await t.client(DEV.subject).acquire({ task: { id: `other-${Date.now()}`, kind: 'ci-job', reference: 'JOB-12', deadline: undefined }, resource: RESOURCE, actions: ['read'], autoRenew: false });
    // A heartbeat with another grant's token is refused outright; a grant without liveness has nothing due.
    expect(wireStatus(await refusal(callUnary(t.issuance, t.issuance.heartbeat, HeartbeatRequest.fromPartial({ grantId: silent.grant!.id, accessToken: other.token }))))).toBe(status.UNAUTHENTICATED);
    expect((await callUnary(t.issuance, t.issuance.heartbeat, HeartbeatRequest.fromPartial({ grantId: other.grant.id, accessToken: other.token }))).nextDue).toBeUndefined();

    await eventually(async () => (await grantRow(silent.grant!.id)).status === 'revoked', 5_000, 100);
    expect(await verdict(silent.accessToken)).toBe('ERR_TOKEN_REVOKED');
    const late = await refusal(callUnary(t.issuance, t.issuance.heartbeat, HeartbeatRequest.fromPartial({ grantId: silent.grant!.id, accessToken: silent.accessToken })));
    expect(wireStatus(late)).toBe(status.FAILED_PRECONDITION);
    expect(late.code).toBe('ERR_GRANT_NOT_ACTIVE');
    expect(late.message).toMatch(/heartbeat_missed/); // why it ended
    expect(await verdict(other.token)).toBe('accepted'); // it asked for no liveness
    await other.release();
  }, 20_000);
});
