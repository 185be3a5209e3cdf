import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { DecideRequest, DecisionServiceClient, Effect, RiskTier, type DecideStreamResponse } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 24, points 3 and 4, against a real mesh: under concurrency issuance commits grants in
// shared transactions and asks decision for many decisions in one message of its DecideStream;
// every caller still gets its own answer — its grant, or its own refusal.

let t: TestMesh;
let decisionAsIssuance: DecisionServiceClient;
let decisionAsRevocation: DecisionServiceClient;

beforeAll(async () => {
  t = await startTestMesh('batched');
  decisionAsIssuance = new DecisionServiceClient(t.mesh.addresses.decision, t.credentialsAs('issuance'));
  decisionAsRevocation = new DecisionServiceClient(t.mesh.addresses.decision, t.credentialsAs('revocation'));
}, 60_000);

afterAll(async () => {
  decisionAsIssuance?.close();
  decisionAsRevocation?.close();
  await t?.close();
});

const decideRequest = (overrides: Partial<DecideRequest> = {}) =>
  DecideRequest.fromPartial({
    workload: { spiffeId: DEV.spiffeId, environment: 'dev', riskTier: RiskTier.RISK_TIER_LOW, ceiling: [{ resource: RESOURCE, actions: ['read', 'write'] }] },
    task: { id: 'batched-decide', kind: 'ci-job' },
    resource: RESOURCE,
    actions: ['read'],
    ...overrides,
  });

/** A histogram's count and sum from a service's Prometheus endpoint (0 when it has none yet). */
async function histogram(service: 'issuance' | 'decision', name: string): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`http://127.0.0.1:${t.mesh.ports.metrics[service]}/metrics`)).text();
  const value = (suffix: string) => Number(new RegExp(`^${name}_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: value('count'), sum: value('sum') };
}

describe('44 batched grant path', () => {
  it('DecideBatch answers each request as Decide would: a decision, or that request’s own error', async () => {
    const allowed = decideRequest();
    const outsideCeiling = decideRequest({ actions: ['delete'] });
    const malformed = decideRequest({ resource: '' });
    const { outcomes } = await callUnary(decisionAsIssuance, decisionAsIssuance.decideBatch, { requests: [allowed, outsideCeiling, malformed] });
    expect(outcomes).toHaveLength(3);

    const single = await callUnary(decisionAsIssuance, decisionAsIssuance.decide, allowed);
    expect(outcomes[0]!.decision).toEqual(single);
    expect(single.effect, single.reasons.join('; ')).toBe(Effect.EFFECT_ALLOW);

    expect(outcomes[1]!.decision?.effect).toBe(Effect.EFFECT_DENY);
    expect(outcomes[1]!.decision?.reasons.join(' ')).toMatch(/ceiling/);

    const unaryRefusal = await refusal(callUnary(decisionAsIssuance, decisionAsIssuance.decide, malformed));
    expect(outcomes[2]!.decision).toBeUndefined();
    expect(outcomes[2]!.error).toEqual({ code: unaryRefusal.code, message: unaryRefusal.message, field: unaryRefusal.field ?? '' });
    expect(outcomes[2]!.error?.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('refuses a batch over 256 requests, and any caller but issuance', async () => {
    const tooMany = await refusal(callUnary(decisionAsIssuance, decisionAsIssuance.decideBatch, { requests: Array.from({ length: 257 }, () => decideRequest()) }));
    expect(wireStatus(tooMany)).toBe(status.INVALID_ARGUMENT);
    expect(tooMany.message).toMatch(/at most 256/);
    const stranger = await refusal(callUnary(decisionAsRevocation, decisionAsRevocation.decideBatch, { requests: [decideRequest()] }));
    expect(wireStatus(stranger)).toBe(status.PERMISSION_DENIED);
  });

  it('DecideStream answers each message by its id, as DecideBatch would, and only for issuance', async () => {
    const allowed = decideRequest();
    const outsideCeiling = decideRequest({ actions: ['delete'] });
    const malformed = decideRequest({ resource: '' });
    const { outcomes: batchOutcomes } = await callUnary(decisionAsIssuance, decisionAsIssuance.decideBatch, { requests: [allowed, outsideCeiling, malformed] });

    const stream = decisionAsIssuance.decideStream();
    const answers = new Map<number, DecideStreamResponse>();
    const allAnswered = new Promise<void>((resolve, reject) => {
      stream.on('data', (answer: DecideStreamResponse) => {
        answers.set(answer.id, answer);
        if (answers.size === 2) resolve();
      });
      stream.on('error', reject);
    });
    stream.write({ id: 7, requests: [allowed, outsideCeiling, malformed], traceparent: '' });
    stream.write({ id: 9, requests: [outsideCeiling], traceparent: '' });
    await allAnswered;
    stream.end();
    // Policy-set versions and decisions are the same as the batch's; only the framing differs.
    expect(answers.get(7)!.outcomes).toEqual(batchOutcomes);
    expect(answers.get(9)!.outcomes).toEqual([batchOutcomes[1]]);

    const stranger = decisionAsRevocation.decideStream();
    const refused = await new Promise<{ code?: number }>((resolve) => {
      stranger.on('error', resolve);
      stranger.on('data', () => resolve({ code: -1 })); // an answer would be a failure
      stranger.write({ id: 1, requests: [allowed], traceparent: '' });
    });
    expect(refused.code).toBe(status.PERMISSION_DENIED);
  });

  it('64 concurrent grant requests share transactions and decision calls; each caller gets its own grant or refusal', async () => {
    const devSession = t.client(DEV.subject, { session: true });
    const prodSession = t.client(PROD.subject, { session: true });
    // Sessions first, so that the burst below is grants only.
    await devSession.acquire({ task: { id: 'batched-warm-dev', kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
    await refusal(prodSession.acquire({ task: { id: 'batched-warm-prod', kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['write'] }));
    const commitsBefore = await histogram('issuance', 'mayfly_grant_commit_batch');
    const batchesBefore = await histogram('decision', 'mayfly_decide_batch');

    const asks = Array.from({ length: 64 }, (_, i) => ({ i, allowed: i % 4 !== 3 }));
    const answers = await Promise.all(
      asks.map(({ i, allowed }) =>
        (allowed ? devSession : prodSession)
          .acquire({ task: { id: `batched-${i}`, kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: [allowed ? 'read' : 'write'] })
          .then((grant) => ({ i, grant, error: undefined }), (error: { code?: string }) => ({ i, grant: undefined, error })),
      ),
    );

    for (const { i, grant, error } of answers) {
      if (asks[i]!.allowed) {
        expect(error).toBeUndefined();
        expect(grant!.grant.task?.id).toBe(`batched-${i}`); // its own grant, not a batch-mate's
      } else {
        expect(grant).toBeUndefined();
        expect(error?.code).toBe('ERR_POLICY_DENIED');
      }
    }
    const issued = answers.filter((a) => a.grant).map((a) => a.grant!.grant.id);
    expect(issued).toHaveLength(48);
    // Committed before the answer: every grant is in the database, with its grant.issued in the outbox.
    const rows = await t.db.selectFrom('grants').select(['id', 'task_id']).where('id', 'in', issued).execute();
    expect(rows).toHaveLength(48);

    const commits = await histogram('issuance', 'mayfly_grant_commit_batch');
    const batches = await histogram('decision', 'mayfly_decide_batch');
    expect(commits.sum - commitsBefore.sum).toBe(48); // every grant committed once…
    expect(commits.count - commitsBefore.count).toBeLessThan(48); // …in fewer transactions
    // Every decision was asked over DecideStream (a message each ask), and some went together.
    expect(batches.sum - batchesBefore.sum).toBe(64);
    expect(batches.count - batchesBefore.count, JSON.stringify({ batches, batchesBefore })).toBeLessThan(64);
    await Promise.all(answers.map((a) => a.grant?.release()));
  });

  it('delivered audit events leave the outbox; the audit log has them', async () => {
    const grant = await t.client(DEV.subject, { session: true }).acquire({ task: { id: 'batched-outbox', kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('grant_id', '=', grant.grant.id).where('kind', '=', 'grant.issued').execute()).length === 1, 10_000, 50);
    await eventually(async () => (await t.db.selectFrom('audit_outbox').select('id').where('dead_lettered_at', 'is', null).execute()).length === 0, 10_000, 50);
    // Nothing delivered stays behind (they were kept, marked delivered, and never pruned).
    expect(await t.db.selectFrom('audit_outbox').select('id').where('delivered_at', 'is not', null).execute()).toEqual([]);
    await grant.release();
  });

  it('decision restarting ends issuance’s stream at once, and grants are decided again after it', async () => {
    const session = t.client(DEV.subject, { session: true });
    const ask = (id: string) => session.acquire({ task: { id, kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
    await (await ask('restart-before')).release(); // issuance's DecideStream is open
    const started = Date.now();
    await t.mesh.stopService('decision', 'SIGTERM');
    // It drains for up to MAYFLY_DRAIN_SECONDS (10 s) while calls are open: the stream must not be one.
    expect(Date.now() - started).toBeLessThan(5_000);
    const whileDown = await refusal(ask('restart-down'));
    expect(whileDown.code).toBe('ERR_DEPENDENCY_UNAVAILABLE');
    await t.mesh.startService('decision');
    const after = await ask('restart-after');
    expect(after.grant.task?.id).toBe('restart-after');
    // …and over the stream, not by the Decide call it falls back to: issuance's channel, still
    // waiting out its reconnection backoff, is waited for rather than failing the new stream at
    // once. The restarted decision counts every DecideStream message (a Decide call it does not);
    // before this waited, it counted none.
    expect((await histogram('decision', 'mayfly_decide_batch')).count).toBeGreaterThanOrEqual(1);
    await after.release();
  });
});
