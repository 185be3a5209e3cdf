import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStreamSnapshot, connectBus, type NatsConnection } from '@mayfly/bus';
import { WorkloadSession } from '@mayfly/client';
import { callUnary } from '@mayfly/grpc';
import { RequestGrantRequest, RevokeRequest, Verdict } from '@mayfly/proto';
import { DEV, RESOURCE, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 2: revocation state stays bounded. 50,000 real grants (within attested
// sessions, through the whole mesh) are revoked with one workload watermark: one row, one stream
// event, one entry at the edge — not 50,000 — and the edge rejects every one of those tokens
// while a token issued after the watermark is accepted.

const GRANTS = Number(process.env['MAYFLY_E2E_WATERMARK_GRANTS'] ?? '50000');
const SESSIONS = 4;
const CONCURRENCY = 48;

let t: TestMesh;
let nats: NatsConnection;
const sessions: WorkloadSession[] = [];

beforeAll(async () => {
  t = await startTestMesh('workload_watermark', {
    env: { MAYFLY_GRANT_RATE_PER_SECOND: '1000000', MAYFLY_GRANT_RATE_BURST: '1000000', MAYFLY_UNAUTHENTICATED_RATE_PER_PEER: '0' },
  });
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-watermark');
}, 60_000);
afterAll(async () => {
  sessions.forEach((session) => session.close());
  await nats?.close();
  await t?.close();
});

async function startSession(): Promise<WorkloadSession> {
  const session = await WorkloadSession.start({ issuanceAddress: t.mesh.addresses.issuance, evidence: { oidcToken: await t.evidence(DEV.subject) }, timeoutMs: 10_000, bootstrap: t.issuance });
  sessions.push(session);
  return session;
}

/** Runs `work` for every index in 0..count-1 on `concurrency` workers. */
async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let index = next++; index < count; index = next++) await work(index);
  }));
}

interface Issued {
  readonly token: string;
  readonly certificate: Buffer;
}

async function grant(session: WorkloadSession, index: number): Promise<Issued> {
  const response = await callUnary(
    session.client,
    session.client.requestGrant,
    RequestGrantRequest.fromPartial({ task: { id: `watermark-${index}`, kind: 'ci-job', reference: 'JOB-9' }, resource: RESOURCE, actions: ['read'], requestedTtlSeconds: 900 }),
    { target: 'issuance', timeoutMs: 30_000 },
  );
  return { token: response.accessToken, certificate: session.certificate };
}

const verdict = async (issued: Issued) =>
  callUnary(t.edge, t.edge.verify, { accessToken: issued.token, audience: RESOURCE, action: 'read', peerCertificate: issued.certificate }, { target: 'edge', timeoutMs: 30_000 });

/** The edge sidecar's revocation state and heap, from its Prometheus metrics. */
async function edgeState(): Promise<{ grant: number; workload: number; key: number; heapMb: number }> {
  const text = await (await fetch(`http://127.0.0.1:${t.mesh.ports.metrics['edge-verifier']}/metrics`)).text();
  const entries = (kind: string) => Number(new RegExp(`mayfly_edge_revocation_entries\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? NaN);
  const heap = Number(/mayfly_process_heap_used_bytes(?:\{[^}]*\})? (\d+)/.exec(text)?.[1] ?? NaN);
  return { grant: entries('grant'), workload: entries('workload'), key: entries('key'), heapMb: Math.round((heap / 1024 / 1024) * 10) / 10 };
}

describe('22 one workload watermark revokes 50,000 grants', () => {
  it(`issues ${GRANTS} grants, revokes them with one watermark, and the edge rejects every token holding one entry`, async () => {
    const pool = await Promise.all(Array.from({ length: SESSIONS }, () => startSession()));
    const issued: Issued[] = new Array<Issued>(GRANTS);
    const started = Date.now();
    await inParallel(GRANTS, CONCURRENCY, async (index) => {
      issued[index] = await grant(pool[index % SESSIONS]!, index);
    });
    const issuedIn = (Date.now() - started) / 1000;
    const active = await t.db.selectFrom('grants').select((eb) => eb.fn.countAll<string>().as('count')).where('spiffe_id', '=', DEV.spiffeId).where('status', '=', 'active').executeTakeFirstOrThrow();
    expect(Number(active.count)).toBe(GRANTS);
    for (const sample of [0, GRANTS >> 1, GRANTS - 1]) expect((await verdict(issued[sample]!)).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    const before = await edgeState();
    expect(before).toMatchObject({ grant: 0, workload: 0, key: 0 });
    const streamBefore = (await readStreamSnapshot(nats, t.stream.stream))!;

    const revokeStarted = Date.now();
    const response = await callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ workload: { spiffeId: DEV.spiffeId }, reason: 'e2e: compromise response' }), { timeoutMs: 60_000 });
    const revokedInMs = Date.now() - revokeStarted;
    expect(response).toMatchObject({ published: true, grantsEnded: GRANTS });
    // One row, one stream event.
    expect((await readStreamSnapshot(nats, t.stream.stream))!.lastSequence - streamBefore.lastSequence).toBe(1);
    expect(await t.db.selectFrom('revocations').select(['scope']).execute()).toEqual([{ scope: 'workload' }]);

    let rejected = 0;
    const otherwise: string[] = [];
    const checkStarted = Date.now();
    await inParallel(GRANTS, 32, async (index) => {
      const answer = await verdict(issued[index]!);
      if (answer.verdict === Verdict.VERDICT_REJECTED && answer.reasonCode === 'ERR_TOKEN_REVOKED') rejected += 1;
      else if (otherwise.length < 5) otherwise.push(`${index}: ${answer.reasonCode || 'accepted'}`);
    });
    const checkedIn = (Date.now() - checkStarted) / 1000;
    expect(otherwise).toEqual([]);
    expect(rejected).toBe(GRANTS);

    // The edge holds one watermark and no grant entry.
    const after = await edgeState();
    expect(after).toMatchObject({ grant: 0, workload: 1, key: 0 });

    // A credential issued after the watermark works (a new session: the old ones were cut off too).
    await new Promise((resolve) => setTimeout(resolve, 1_100 - (Date.now() % 1_000)));
    const fresh = await grant(await startSession(), GRANTS);
    expect((await verdict(fresh)).verdict).toBe(Verdict.VERDICT_ACCEPTED);

    process.stdout.write(
      `watermark: ${GRANTS} grants issued in ${issuedIn.toFixed(1)} s, revoked by one watermark in ${revokedInMs} ms, all rejected (checked in ${checkedIn.toFixed(1)} s); ` +
        `edge revocation entries grant/workload/key ${after.grant}/${after.workload}/${after.key}; edge heap ${before.heapMb} MB before, ${after.heapMb} MB after (not collected)\n`,
    );
  }, 600_000);
});
