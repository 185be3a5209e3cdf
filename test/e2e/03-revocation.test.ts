import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import { callUnary } from '@mayfly/grpc';
import { GrantStatus, Verdict } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 3: revocations and completions reach every edge over JetStream, including an edge that
// starts after the fact; expired grants are marked expired; misuse is refused precisely.

let t: TestMesh;
let nats: NatsConnection;
const libraryEdges: EdgeVerifier[] = [];

beforeAll(async () => {
  t = await startTestMesh('revocation', { env: { MAYFLY_EXPIRY_SWEEP_MS: '200' } });
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-edge-library');
});
afterAll(async () => {
  await Promise.all(libraryEdges.map((edge) => edge.close()));
  await nats?.close();
  await t?.close();
});

/** The edge verifier library, embedded in this test process, as a resource would embed it. */
async function libraryEdge(): Promise<EdgeVerifier> {
  const edge = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], nats, ...t.stream });
  libraryEdges.push(edge);
  await edge.ready;
  return edge;
}

const sidecarVerdict = async (token: string) =>
  callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
const grantRow = (id: string) => t.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const auditKinds = async (grantId: string) =>
  (await t.db.selectFrom('audit_events').select('kind').where('grant_id', '=', grantId).orderBy('sequence').execute()).map((e) => e.kind);
let n = 0;
const task = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined });

describe('03 revocation', () => {
  it('a revoke is committed, published, audited, and rejected by the sidecar and an embedded edge', async () => {
    const edge = await libraryEdge();
    const access = await t.client(DEV.subject).acquire({ task: task('revoke'), resource: RESOURCE, actions: ['read'] });
    expect((await sidecarVerdict(access.accessToken)).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    expect((await edge.verify(access.accessToken, { audience: RESOURCE })).ok).toBe(true);

    const response = await callUnary(t.revocation, t.revocation.revoke, {
      grantId: access.grant.id,
      reason: 'key suspected leaked',
      requestedBy: 'secops@example.com',
      finalStatus: GrantStatus.GRANT_STATUS_UNSPECIFIED,
    });
    expect(response.published).toBe(true);
    expect(response.grant).toMatchObject({ status: GrantStatus.GRANT_STATUS_REVOKED, endReason: 'key suspected leaked' });
    expect(await grantRow(access.grant.id)).toMatchObject({ status: 'revoked', end_reason: 'key suspected leaked' });
    const revocation = await t.db.selectFrom('revocations').selectAll().where('grant_id', '=', access.grant.id).executeTakeFirstOrThrow();
    expect(revocation.published_at).not.toBeNull();
    expect(revocation.not_after.getTime()).toBe(access.grant.expiresAt!.getTime());

    await eventually(async () => (await sidecarVerdict(access.accessToken)).verdict === Verdict.VERDICT_REJECTED);
    expect(await sidecarVerdict(access.accessToken)).toMatchObject({ reasonCode: 'ERR_TOKEN_REVOKED' });
    await eventually(async () => !(await edge.verify(access.accessToken, { audience: RESOURCE })).ok);
    expect(await edge.verify(access.accessToken, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
    await eventually(async () => (await auditKinds(access.grant.id)).includes('grant.revoked'));
  });

  it('an edge that starts after the revocation catches up from the stream and rejects at once', async () => {
    const access = await t.client(DEV.subject).acquire({ task: task('late-edge'), resource: RESOURCE, actions: ['read'] });
    await callUnary(t.revocation, t.revocation.revoke, { grantId: access.grant.id, reason: 'rotated', requestedBy: 'ops', finalStatus: 0 });
    const late = await libraryEdge(); // ready = caught up with everything stored before it started
    expect(await late.verify(access.accessToken, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
  });

  it('`await using` completes the grant at scope exit, even when the task throws, and edges reject it', async () => {
    let token = '';
    let grantId = '';
    const runTask = async (): Promise<void> => {
      await using access = await t.client(DEV.subject).acquire({ task: task('scoped'), resource: RESOURCE, actions: ['read'] });
      token = access.accessToken;
      grantId = access.grant.id;
      expect((await sidecarVerdict(token)).verdict).toBe(Verdict.VERDICT_ACCEPTED);
      throw new Error('the task failed half-way');
    };
    await expect(runTask()).rejects.toThrow('the task failed half-way');
    expect(await grantRow(grantId)).toMatchObject({ status: 'completed', end_reason: 'task completed: released at end of scope' });
    await eventually(async () => (await sidecarVerdict(token)).verdict === Verdict.VERDICT_REJECTED);
    await eventually(async () => (await auditKinds(grantId)).includes('grant.completed'));
  });

  it('withAccess records whether the task succeeded or failed', async () => {
    const client = t.client(DEV.subject);
    let okGrant = '';
    await client.withAccess({ task: task('ok'), resource: RESOURCE, actions: ['read'] }, async (grant) => void (okGrant = grant.grant.id));
    expect((await grantRow(okGrant)).end_reason).toBe('task completed: succeeded');
    let failedGrant = '';
    await expect(
      client.withAccess({ task: task('fail'), resource: RESOURCE, actions: ['read'] }, async (grant) => {
        failedGrant = grant.grant.id;
        throw new Error('exit 1');
      }),
    ).rejects.toThrow('exit 1');
    expect((await grantRow(failedGrant)).end_reason).toBe('task completed: failed: exit 1');
  });

  it('CompleteGrant demands the grant’s own token', async () => {
    const client = t.client(DEV.subject);
    const a = await client.acquire({ task: task('a'), resource: RESOURCE, actions: ['read'] });
    const b = await client.acquire({ task: task('b'), resource: RESOURCE, actions: ['read'] });
    const withOtherToken = await refusal(
      callUnary(t.issuance, t.issuance.completeGrant, { grantId: a.grant.id, accessToken: b.accessToken, outcome: '' }),
    );
    expect(wireStatus(withOtherToken)).toBe(status.UNAUTHENTICATED);
    const withGarbage = await refusal(
      callUnary(t.issuance, t.issuance.completeGrant, { grantId: a.grant.id, accessToken: 'not.a.token', outcome: '' }),
    );
    expect(wireStatus(withGarbage)).toBe(status.UNAUTHENTICATED);
    expect((await grantRow(a.grant.id)).status).toBe('active');
    await a.release();
    await b.release();
  });

  it('refuses revoking twice, unknown grants and malformed requests precisely', async () => {
    const access = await t.client(DEV.subject).acquire({ task: task('twice'), resource: RESOURCE, actions: ['read'] });
    const revoke = (grantId: string, reason = 'test') =>
      callUnary(t.revocation, t.revocation.revoke, { grantId, reason, requestedBy: 'ops', finalStatus: 0 });
    await revoke(access.grant.id);
    const again = await refusal(revoke(access.grant.id));
    expect(wireStatus(again)).toBe(status.FAILED_PRECONDITION);
    expect(again.code).toBe('ERR_GRANT_NOT_ACTIVE');
    expect(wireStatus(await refusal(revoke('00000000-0000-4000-8000-000000000000')))).toBe(status.NOT_FOUND);
    const malformed = await refusal(revoke("1' OR '1'='1"));
    expect(wireStatus(malformed)).toBe(status.INVALID_ARGUMENT);
    expect(malformed.field).toBe('grant_id');
    // The reason's text never decides (a blank one is recorded as "no reason given"): the grant's state does.
    expect(wireStatus(await refusal(revoke(access.grant.id, '  ')))).toBe(status.FAILED_PRECONDITION);
    // Releasing a grant that was revoked meanwhile is not an error for the workload.
    await expect(access.release()).resolves.toBeUndefined();
  });

  it('an edge that verified a token before refuses it once it expires (the verified-token cache ends at exp)', async () => {
    const edge = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], nats, ...t.stream, clockToleranceSeconds: 0 });
    libraryEdges.push(edge);
    await edge.ready;
    // 2 s, not 1: JWT times are whole seconds, so a 1 s token granted late in a second lives only
    // milliseconds, and the first check could already find it expired.
    // autoRenew off: this is about the one token expiring, not the grant renewing it.
    const access = await t.client(DEV.subject).acquire({ task: task('cached-expiry'), resource: RESOURCE, actions: ['read'], ttlSeconds: 2, autoRenew: false });
    expect((await edge.verify(access.accessToken, { audience: RESOURCE })).ok).toBe(true);
    expect(await edge.verify(access.accessToken, { audience: 'pg:elsewhere' })).toMatchObject({ ok: false, code: 'ERR_TOKEN_AUDIENCE' });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, access.expiresAt!.getTime() - Date.now()) + 50));
    expect(await edge.verify(access.accessToken, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_EXPIRED' });
  });

  it('marks grants expired, with an audit record, once their credential lifetime ends', async () => {
    const access = await t.client(DEV.subject).acquire({ task: task('expire'), resource: RESOURCE, actions: ['read'], ttlSeconds: 1, autoRenew: false });
    await eventually(async () => (await grantRow(access.grant.id)).status === 'expired', 5_000, 100);
    await eventually(async () => (await auditKinds(access.grant.id)).includes('grant.expired'));
  });
});
