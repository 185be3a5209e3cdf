import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { MayflyError, newId } from '@mayfly/core';
import { appendAuditEvents } from '@mayfly/db';
import { callUnary } from '@mayfly/grpc';
import { GrantStatus, Verdict } from '@mayfly/proto';
import { AGENT, DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 4: services come and go. Audit events are never lost while the audit service is away
// (each is committed with what it describes, then delivered); SIGTERM drains; deadlines hold.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('resilience');
});
afterAll(async () => {
  await t?.close();
});

let n = 0;
const task = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'ci-job', reference: '', deadline: undefined });
const auditKindsForTask = async (taskId: string) =>
  (await t.db.selectFrom('audit_events').select('kind').where('task_id', '=', taskId).orderBy('sequence').execute()).map((e) => e.kind);

describe('04 resilience', () => {
  it('with the audit service down, grants go on and nothing is lost: 100 grants, every event in the audit log exactly once when audit is back', async () => {
    const client = t.client(DEV.subject);
    const access = await client.acquire({ task: task('revoke-while-down'), resource: RESOURCE, actions: ['read'] });

    await t.mesh.stopService('audit');
    // The durable audit record is the outbox row committed with the grant: the token does not
    // wait for the audit service.
    const tasks = Array.from({ length: 100 }, () => task('audit-down'));
    for (const each of tasks) await client.acquire({ task: each, resource: RESOURCE, actions: ['read'] });
    const pending = await t.db.selectFrom('audit_outbox').select('id').where('owner', '=', 'issuance').where('delivered_at', 'is', null).execute();
    expect(pending.length).toBeGreaterThanOrEqual(100); // a grant.issued each

    // A revocation does not wait for audit either: it is committed and published at once.
    const revoked = await callUnary(t.revocation, t.revocation.revoke, { grantId: access.grant.id, reason: 'audit is down', requestedBy: 'ops', finalStatus: 0 });
    expect(revoked.published).toBe(true);

    await t.mesh.startService('audit');
    const ids = tasks.map((each) => each.id);
    await eventually(async () => {
      const issued = await t.db.selectFrom('audit_events').select('task_id').where('kind', '=', 'grant.issued').where('task_id', 'in', ids).execute();
      return issued.length === 100;
    }, 20_000, 200);
    for (const id of ids.slice(0, 10)) expect(await auditKindsForTask(id)).toEqual(['grant.issued']);
    // Exactly once: no event id twice, and one record for each of the hundred tasks.
    const events = await t.db.selectFrom('audit_events').select(['id']).where('task_id', 'in', ids).execute();
    expect(events.length).toBe(100);
    expect(new Set(events.map((e) => e.id)).size).toBe(100);
    await eventually(async () => (await auditKindsForTask(access.grant.task!.id)).includes('grant.revoked'), 10_000, 100);
    await eventually(async () => (await t.db.selectFrom('audit_outbox').select('id').where('delivered_at', 'is', null).where('dead_lettered_at', 'is', null).execute()).length === 0, 10_000, 200);
  });

  it('the audit log refuses edits, deletions and truncation at the database', async () => {
    await appendAuditEvents(t.db, [
      { id: newId(), occurred_at: new Date(), kind: 'test.event', actor: 'test', source: 'test', grant_id: null, task_id: 'append-only', outcome: 'success', detail: '{}' },
    ]);
    await expect(sql`UPDATE audit_events SET actor = 'someone-else'`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_events`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_events`.execute(t.db)).rejects.toThrow(/append-only/);
  });

  it('SIGTERM drains: the service stops cleanly, calls end whole, and it serves again after a restart', async () => {
    const client = t.client(DEV.subject);
    const tasks = Array.from({ length: 20 }, () => task('drain'));
    const calls = tasks.map((tk) => client.acquire({ task: tk, resource: RESOURCE, actions: ['read'] }).then(
      (grant) => ({ ok: true as const, grant }),
      (error: unknown) => ({ ok: false as const, error: error as MayflyError }),
    ));
    const issuance = t.mesh.processes.get('issuance')!;
    const exitCode = new Promise<number | null>((resolve) => issuance.onExit(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.mesh.stopService('issuance', 'SIGTERM');
    expect(await exitCode).toBe(0);

    const results = await Promise.all(calls);
    const answered: string[] = [];
    for (const [i, result] of results.entries()) {
      const rows = await t.db.selectFrom('grants').select(['status']).where('task_id', '=', tasks[i]!.id).execute();
      if (result.ok) {
        // A call that was answered was answered in full: active grant, and its issuance record
        // durable in issuance's outbox (committed with the grant) — delivered to the audit log
        // on the way out, or when issuance runs again.
        expect(rows).toEqual([{ status: 'active' }]);
        answered.push(tasks[i]!.id);
      } else {
        // A call that was cut off issued nothing. (The client retried it while issuance was
        // down: its last attempt may have failed before reaching the wire, still UNAVAILABLE.)
        expect(result.error.status, result.error.message).toBe(status.UNAVAILABLE);
        expect(rows.filter((r) => r.status === 'active')).toEqual([]);
      }
    }

    await t.mesh.startService('issuance');
    for (const id of answered) await eventually(async () => (await auditKindsForTask(id)).includes('grant.issued'), 10_000, 100);
    const after = await client.acquire({ task: task('after-restart'), resource: RESOURCE, actions: ['read'] });
    expect(after.grant.status).toBe(GrantStatus.GRANT_STATUS_ACTIVE);
    const verdict = await callUnary(t.edge, t.edge.verify, { accessToken: after.accessToken, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) });
    expect(verdict.verdict).toBe(Verdict.VERDICT_ACCEPTED);
  });

  it('throttles an agent looping on elevation: RESOURCE_EXHAUSTED with a retry hint, and the loop shows in the audit trail', async () => {
    // Defaults: 50 grants per second per workload, burst 100.
    const client = t.client(AGENT.subject);
    const results = await Promise.all(
      Array.from({ length: 160 }, (_, i) =>
        client.acquire({ task: task(`loop-${i}`), resource: RESOURCE, actions: ['read'] }).then(
          () => 'granted',
          (error: MayflyError) => error,
        ),
      ),
    );
    const refused = results.filter((r): r is MayflyError => r !== 'granted');
    const granted = results.length - refused.length;
    expect(granted).toBeGreaterThanOrEqual(100);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(wireStatus(error), error.message).toBe(status.RESOURCE_EXHAUSTED);
      expect(error.code).toBe('ERR_RATE_LIMITED');
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.message).toMatch(/retry in \d+ ms/);
    }
    const grants = await t.db.selectFrom('grants').select('id').where('spiffe_id', '=', AGENT.spiffeId).execute();
    expect(grants.length).toBe(granted);
    const readThrottled = () => t.db.selectFrom('audit_events').selectAll().where('kind', '=', 'grant.throttled').where('actor', '=', AGENT.spiffeId).execute();
    await eventually(async () => (await readThrottled()).length >= 1); // delivered in the background
    const throttled = await readThrottled();
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    expect(throttled.length).toBeLessThanOrEqual(refused.length);
    expect(throttled.reduce((sum, e) => sum + Number(e.detail['refusedSinceLastRecord']), 0)).toBeGreaterThanOrEqual(1);

    await new Promise((resolve) => setTimeout(resolve, Math.max(...refused.map((e) => e.retryAfterMs ?? 0))));
    await expect(client.acquire({ task: task('after-backoff'), resource: RESOURCE, actions: ['read'] })).resolves.toBeDefined();
  });

  it('a call past its deadline ends with DEADLINE_EXCEEDED', async () => {
    const error = await refusal(
      callUnary(
        t.issuance,
        t.issuance.requestGrant,
        {
          evidence: { oidcToken: await t.evidence(DEV.subject) },
          task: task('deadline'),
          resource: RESOURCE,
          actions: ['read'],
          requestedTtlSeconds: 60,
          justification: '',
          idempotencyKey: '',
          heartbeatIntervalSeconds: 0,
          singleUse: false,
          breakGlass: false,
        },
        { timeoutMs: 1 },
      ),
    );
    expect(wireStatus(error)).toBe(status.DEADLINE_EXCEEDED);
  });
});
